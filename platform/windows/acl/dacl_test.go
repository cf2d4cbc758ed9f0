package acl

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func mustSID(t *testing.T, s string) []byte {
	t.Helper()
	b, err := sidBytes(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSIDBytes(t *testing.T) {
	// BUILTIN\Administrators, as winnt.h lays out a SID.
	got := hex.EncodeToString(mustSID(t, "S-1-5-32-544"))
	if want := "0102000000000005" + "20000000" + "20020000"; got != want {
		t.Errorf("S-1-5-32-544 = %s, want %s", got, want)
	}
	if l := sidLen(mustSID(t, sidA)); l != 8+4*8 {
		t.Errorf("sidLen = %d", l)
	}
	for _, bad := range []string{"", "S-1", "X-1-5", "S-2-5-1", "S-1-x", "S-1-5-4294967296", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := sidBytes(bad); err == nil {
			t.Errorf("sidBytes(%q) succeeded", bad)
		}
	}
}

func TestACLEdit(t *testing.T) {
	a, b := mustSID(t, sidA), mustSID(t, sidB)
	inherited := aceFor(b, Grant{Access: Read, Inherit: true})
	inherited.raw[1] |= aceInherited
	inherited.Flags |= aceInherited
	inheritedA := aceFor(a, Grant{Access: Write, Inherit: true})
	inheritedA.raw[1] |= aceInherited
	inheritedA.Flags |= aceInherited
	object := ace{Type: 5, raw: []byte{5, 0, 8, 0, 1, 2, 3, 4}} // an object ACE, kept as bytes
	start := []ace{aceFor(b, Grant{Access: DenyAll}), aceFor(b, Grant{Access: Write}), object, inherited, inheritedA}

	raw, err := marshalACL(2, start)
	if err != nil {
		t.Fatal(err)
	}
	rev, parsed, err := parseACL(raw)
	if err != nil || rev != 2 || len(parsed) != len(start) {
		t.Fatalf("parseACL = %d, %d ACEs, %v", rev, len(parsed), err)
	}
	for i := range start {
		if !bytes.Equal(parsed[i].raw, start[i].raw) || parsed[i].Mask != start[i].Mask || !bytes.Equal(parsed[i].SID, start[i].SID) {
			t.Errorf("ACE %d = %+v, want %+v", i, parsed[i], start[i])
		}
	}

	allowA := aceFor(a, Grant{Access: Write, Inherit: true})
	denyA := aceFor(a, Grant{Access: DenyDelete})
	got := withACE(withACE(parsed, allowA), denyA)
	want := []ace{denyA, start[0], start[1], object, allowA, inherited, inheritedA}
	if !sameACEs(got, want) {
		t.Fatalf("canonical insertion:\n got %v\nwant %v", types(got), types(want))
	}
	if again := withACE(got, allowA); len(again) != len(got) {
		t.Error("an identical explicit ACE was added twice")
	}

	if !inheritableChange(parsed, withACE(parsed, allowA)) || inheritableChange(parsed, withACE(parsed, denyA)) {
		t.Error("inheritableChange: an inheritable allow is a change children see, a plain deny is not")
	}
	if inheritableChange(got, got) {
		t.Error("inheritableChange of an unchanged DACL")
	}

	kept, removed := withoutSID(got, a)
	if removed != 2 || !sameACEs(kept, start) {
		t.Errorf("withoutSID removed %d, kept %v; want 2 and the start (inherited ACE of A kept)", removed, types(kept))
	}
	if !inheritableChange(got, kept) {
		t.Error("inheritableChange: removing an inheritable explicit ACE is a change children see")
	}

	if _, _, err := parseACL(raw[:len(raw)-1]); err == nil {
		t.Error("parseACL of a truncated ACL succeeded")
	}
	raw[aclHeaderSize+2] = 0xff // the first ACE's size runs past the end
	if _, _, err := parseACL(raw); err == nil {
		t.Error("parseACL of an ACE past the end succeeded")
	}
}

func sameACEs(a, b []ace) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].raw, b[i].raw) {
			return false
		}
	}
	return true
}

func types(aces []ace) []string {
	var s []string
	for _, a := range aces {
		s = append(s, hex.EncodeToString(a.raw[:8]))
	}
	return s
}
