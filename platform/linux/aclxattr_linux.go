package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// POSIX ACLs as the kernel reads and writes them in the xattrs system.posix_acl_access and
// system.posix_acl_default (include/uapi/linux/posix_acl_xattr.h): a little-endian header,
// version 2, then entries of tag (16 bits), permissions (16 bits) and id (32 bits), sorted by
// tag and, for named users and groups, by id.
const (
	aclAccessXattr  = "system.posix_acl_access"
	aclDefaultXattr = "system.posix_acl_default"
	aclVersion      = 2

	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20

	aclUndefinedID = 0xffffffff
)

// aclEntry is one entry: a tag, its permissions (rwx as 4, 2, 1) and, for aclUser and
// aclGroup, the id it names.
type aclEntry struct {
	Tag  uint16
	Perm uint16
	ID   uint32
}

// acl is a decoded ACL.
type acl []aclEntry

var errACLFormat = errors.New("not a POSIX ACL of version 2")

// parseACL decodes an xattr value.
func parseACL(b []byte) (acl, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 || binary.LittleEndian.Uint32(b) != aclVersion {
		return nil, errACLFormat
	}
	var a acl
	for b = b[4:]; len(b) > 0; b = b[8:] {
		a = append(a, aclEntry{Tag: binary.LittleEndian.Uint16(b), Perm: binary.LittleEndian.Uint16(b[2:]), ID: binary.LittleEndian.Uint32(b[4:])})
	}
	return a, nil
}

// bytes encodes a, sorted as the kernel requires.
func (a acl) bytes() []byte {
	s := append(acl(nil), a...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Tag != s[j].Tag {
			return s[i].Tag < s[j].Tag
		}
		return s[i].ID < s[j].ID
	})
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range s {
		b = binary.LittleEndian.AppendUint16(b, e.Tag)
		b = binary.LittleEndian.AppendUint16(b, e.Perm)
		b = binary.LittleEndian.AppendUint32(b, e.ID)
	}
	return b
}

// aclFromMode is the ACL a file of permissions mode has when it has none.
func aclFromMode(mode uint32) acl {
	return acl{
		{Tag: aclUserObj, Perm: uint16(mode>>6) & 7, ID: aclUndefinedID},
		{Tag: aclGroupObj, Perm: uint16(mode>>3) & 7, ID: aclUndefinedID},
		{Tag: aclOther, Perm: uint16(mode) & 7, ID: aclUndefinedID},
	}
}

// withUser is a with uid granted at least perm (an entry it has keeps what it grants), and a
// mask that lets it through: the old mask widened by perm, or, where there was none, the
// union of the group class (as setfacl makes it).
func (a acl) withUser(uid uint32, perm uint16) acl {
	out, found, mask := acl{}, false, -1
	for _, e := range a {
		switch {
		case e.Tag == aclUser && e.ID == uid:
			e.Perm |= perm
			found = true
		case e.Tag == aclMask:
			mask = len(out)
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, aclEntry{Tag: aclUser, Perm: perm, ID: uid})
	}
	if mask >= 0 {
		out[mask].Perm |= perm
	} else {
		out = append(out, aclEntry{Tag: aclMask, Perm: out.groupClass(), ID: aclUndefinedID})
	}
	return out
}

// withoutUser is a without uid's entry. Without named entries left, it is the three entries
// that stand for a mode (the kernel then drops the xattr and puts the group's permissions
// back in the mode); otherwise the mask is recomputed as the union of the group class.
// changed is false when a had no entry for uid.
func (a acl) withoutUser(uid uint32) (out acl, changed bool) {
	named := false
	for _, e := range a {
		switch {
		case e.Tag == aclUser && e.ID == uid:
			changed = true
			continue
		case e.Tag == aclUser || e.Tag == aclGroup:
			named = true
		}
		out = append(out, e)
	}
	if !changed {
		return a, false
	}
	kept := out[:0:0]
	for _, e := range out {
		if e.Tag != aclMask {
			kept = append(kept, e)
		}
	}
	if named {
		kept = append(kept, aclEntry{Tag: aclMask, Perm: kept.groupClass(), ID: aclUndefinedID})
	}
	return kept, true
}

// groupClass is the union of the permissions of the group owner and the named users and groups.
func (a acl) groupClass() uint16 {
	var p uint16
	for _, e := range a {
		if e.Tag == aclUser || e.Tag == aclGroupObj || e.Tag == aclGroup {
			p |= e.Perm
		}
	}
	return p
}

// minimal reports whether a is only the three entries that stand for a mode.
func (a acl) minimal() bool {
	for _, e := range a {
		if e.Tag != aclUserObj && e.Tag != aclGroupObj && e.Tag != aclOther {
			return false
		}
	}
	return true
}

func (e aclEntry) String() string {
	return fmt.Sprintf("%#x:%o:%d", e.Tag, e.Perm, int32(e.ID))
}
