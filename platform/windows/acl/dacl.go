package acl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ACE types and flags (winnt.h; learn.microsoft.com "ACE_HEADER").
const (
	aceAllowed        = 0 // ACCESS_ALLOWED_ACE_TYPE
	aceDenied         = 1 // ACCESS_DENIED_ACE_TYPE
	aceObjectInherit  = 0x01
	aceContainerInher = 0x02
	aceInherited      = 0x10 // INHERITED_ACE: a copy from a parent, not an explicit ACE

	aclHeaderSize = 8
	aceHeaderSize = 4
)

// ace is one ACE of a DACL. raw is the whole ACE as stored, kept byte for byte for the ACEs
// this package does not touch (object ACEs, callback ACEs, other trustees).
type ace struct {
	Type  uint8
	Flags uint8
	Mask  uint32
	SID   []byte // for allowed and denied ACEs only
	raw   []byte
}

// aceFor is the ACE a grant adds for sid (binary form).
func aceFor(sid []byte, g Grant) ace {
	a := ace{Type: aceAllowed, Mask: g.Access.Mask(), SID: sid}
	if g.Access.Deny() {
		a.Type = aceDenied
	}
	if g.Inherit {
		a.Flags = aceObjectInherit | aceContainerInher
	}
	a.raw = make([]byte, aceHeaderSize+4+len(sid))
	a.raw[0], a.raw[1] = a.Type, a.Flags
	binary.LittleEndian.PutUint16(a.raw[2:], uint16(len(a.raw)))
	binary.LittleEndian.PutUint32(a.raw[4:], a.Mask)
	copy(a.raw[8:], sid)
	return a
}

// explicitOf reports whether a is an explicit allow or deny ACE of sid: what Remove takes.
func (a ace) explicitOf(sid []byte) bool {
	return (a.Type == aceAllowed || a.Type == aceDenied) && a.Flags&aceInherited == 0 && bytes.Equal(a.SID, sid)
}

// parseACL reads an ACL's bytes (the ACL header and its ACEs).
func parseACL(b []byte) (revision byte, aces []ace, err error) {
	if len(b) < aclHeaderSize {
		return 0, nil, fmt.Errorf("ACL of %d bytes, shorter than its header", len(b))
	}
	revision = b[0]
	size := int(binary.LittleEndian.Uint16(b[2:]))
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if size > len(b) || size < aclHeaderSize {
		return 0, nil, fmt.Errorf("ACL says %d bytes, has %d", size, len(b))
	}
	off := aclHeaderSize
	for i := 0; i < count; i++ {
		if off+aceHeaderSize > size {
			return 0, nil, fmt.Errorf("ACE %d runs past the ACL's end", i)
		}
		n := int(binary.LittleEndian.Uint16(b[off+2:]))
		if n < aceHeaderSize || off+n > size {
			return 0, nil, fmt.Errorf("ACE %d has size %d past the ACL's end", i, n)
		}
		raw := append([]byte(nil), b[off:off+n]...)
		a := ace{Type: raw[0], Flags: raw[1], raw: raw}
		if (a.Type == aceAllowed || a.Type == aceDenied) && n >= aceHeaderSize+4+8 {
			a.Mask = binary.LittleEndian.Uint32(raw[4:])
			a.SID = raw[8:]
			if l := sidLen(a.SID); l > 0 && l <= len(a.SID) {
				a.SID = a.SID[:l]
			}
		}
		aces = append(aces, a)
		off += n
	}
	return revision, aces, nil
}

// marshalACL writes an ACL: header then ACEs.
func marshalACL(revision byte, aces []ace) ([]byte, error) {
	size := aclHeaderSize
	for _, a := range aces {
		size += len(a.raw)
	}
	if size > 0xFFFF || len(aces) > 0xFFFF {
		return nil, fmt.Errorf("ACL of %d bytes and %d ACEs is over the 64 KiB limit", size, len(aces))
	}
	b := make([]byte, aclHeaderSize, size)
	b[0] = revision
	binary.LittleEndian.PutUint16(b[2:], uint16(size))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(aces)))
	for _, a := range aces {
		b = append(b, a.raw...)
	}
	return b, nil
}

// withoutSID drops every explicit allow and deny ACE of sid; inherited copies stay (they
// go when their parent's ACE goes).
func withoutSID(aces []ace, sid []byte) (kept []ace, removed int) {
	for _, a := range aces {
		if a.explicitOf(sid) {
			removed++
			continue
		}
		kept = append(kept, a)
	}
	return kept, removed
}

// withACE inserts a in canonical order (explicit deny, explicit allow, inherited): a deny ACE
// first of all, an allow ACE after the last explicit ACE. An identical explicit ACE already
// there is not added twice, so Apply is idempotent.
func withACE(aces []ace, a ace) []ace {
	for _, x := range aces {
		if x.Flags&aceInherited == 0 && bytes.Equal(x.raw, a.raw) {
			return aces
		}
	}
	at := 0
	if a.Type == aceAllowed {
		for at < len(aces) && aces[at].Flags&aceInherited == 0 {
			at++
		}
	}
	out := make([]ace, 0, len(aces)+1)
	out = append(out, aces[:at]...)
	out = append(out, a)
	return append(out, aces[at:]...)
}

// sidLen is the length of a binary SID from its header, 0 when too short to say.
func sidLen(b []byte) int {
	if len(b) < 8 {
		return 0
	}
	return 8 + 4*int(b[1])
}

// sidBytes converts a SID's string form ("S-1-15-2-…") to its binary form.
func sidBytes(s string) ([]byte, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || parts[0] != "S" || parts[1] != "1" || len(parts)-3 > 15 {
		return nil, fmt.Errorf("%q is not a SID (S-1-authority-subauthorities…)", s)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("%q is not a SID: authority %q", s, parts[2])
	}
	subs := parts[3:]
	b := make([]byte, 8+4*len(subs))
	b[0], b[1] = 1, byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for i, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a SID: sub-authority %q", s, p)
		}
		binary.LittleEndian.PutUint32(b[8+4*i:], uint32(v))
	}
	return b, nil
}

// inheritableChange reports whether an ACE that children inherit is added or removed.
func inheritableChange(before, after []ace) bool {
	in := func(list []ace, a ace) bool {
		return slices.ContainsFunc(list, func(x ace) bool { return string(x.raw) == string(a.raw) })
	}
	for _, a := range before {
		if a.Flags&(aceObjectInherit|aceContainerInher) != 0 && a.Flags&aceInherited == 0 && !in(after, a) {
			return true
		}
	}
	for _, a := range after {
		if a.Flags&(aceObjectInherit|aceContainerInher) != 0 && a.Flags&aceInherited == 0 && !in(before, a) {
			return true
		}
	}
	return false
}
