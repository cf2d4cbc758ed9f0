package linux

import (
	"bytes"
	"reflect"
	"testing"
)

// le is an ACL xattr written out by hand: version 2, then tag, perm, id per entry.
func le(entries ...[3]uint32) []byte {
	b := []byte{2, 0, 0, 0}
	for _, e := range entries {
		b = append(b, byte(e[0]), byte(e[0]>>8), byte(e[1]), byte(e[1]>>8), byte(e[2]), byte(e[2]>>8), byte(e[2]>>16), byte(e[2]>>24))
	}
	return b
}

const und = aclUndefinedID

func TestACLXattr(t *testing.T) {
	const agent = 0x70010000
	for _, tc := range []struct {
		name string
		in   acl
		op   func(acl) acl
		want []byte
	}{
		{name: "mode 0644", in: aclFromMode(0o644), op: func(a acl) acl { return a },
			want: le([3]uint32{1, 6, und}, [3]uint32{4, 4, und}, [3]uint32{0x20, 4, und})},
		{name: "grant on a mode adds the user and a mask of the group class", in: aclFromMode(0o750), op: func(a acl) acl { return a.withUser(agent, 6) },
			want: le([3]uint32{1, 7, und}, [3]uint32{2, 6, agent}, [3]uint32{4, 5, und}, [3]uint32{0x10, 7, und}, [3]uint32{0x20, 0, und})},
		{name: "grant keeps other entries, sorted by id, and widens the mask", in: acl{{1, 7, und}, {2, 4, 1000}, {4, 5, und}, {0x10, 4, und}, {0x20, 0, und}, {2, 1, 0xffff_fffe}},
			op:   func(a acl) acl { return a.withUser(agent, 6) },
			want: le([3]uint32{1, 7, und}, [3]uint32{2, 4, 1000}, [3]uint32{2, 6, agent}, [3]uint32{2, 1, 0xffff_fffe}, [3]uint32{4, 5, und}, [3]uint32{0x10, 6, und}, [3]uint32{0x20, 0, und})},
		{name: "grant adds to what the user has", in: acl{{1, 7, und}, {2, 1, agent}, {4, 0, und}, {0x10, 1, und}, {0x20, 0, und}},
			op:   func(a acl) acl { return a.withUser(agent, 4) },
			want: le([3]uint32{1, 7, und}, [3]uint32{2, 5, agent}, [3]uint32{4, 0, und}, [3]uint32{0x10, 5, und}, [3]uint32{0x20, 0, und})},
		{name: "undo back to the mode drops the mask", in: aclFromMode(0o640).withUser(agent, 7),
			op:   func(a acl) acl { a, _ = a.withoutUser(agent); return a },
			want: le([3]uint32{1, 6, und}, [3]uint32{4, 4, und}, [3]uint32{0x20, 0, und})},
		{name: "undo keeps other named entries and recomputes the mask", in: acl{{1, 7, und}, {2, 7, agent}, {8, 1, 50}, {4, 4, und}, {0x10, 7, und}, {0x20, 0, und}},
			op:   func(a acl) acl { a, _ = a.withoutUser(agent); return a },
			want: le([3]uint32{1, 7, und}, [3]uint32{4, 4, und}, [3]uint32{8, 1, 50}, [3]uint32{0x10, 5, und}, [3]uint32{0x20, 0, und})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.op(tc.in).bytes()
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("encoded\n%v\nwant\n%v", got, tc.want)
			}
			back, err := parseACL(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.bytes(), got) {
				t.Errorf("decoding and encoding again changed it: %v", back)
			}
		})
	}
	if _, changed := aclFromMode(0o644).withoutUser(agent); changed {
		t.Errorf("withoutUser changed an ACL without the user")
	}
	for _, bad := range [][]byte{nil, {2, 0, 0}, {1, 0, 0, 0}, append(le([3]uint32{1, 6, und}), 0)} {
		if _, err := parseACL(bad); err == nil {
			t.Errorf("parseACL(%v) accepted it", bad)
		}
	}
	if !reflect.DeepEqual(aclFromMode(0o755).minimal(), true) || aclFromMode(0o755).withUser(agent, 5).minimal() {
		t.Errorf("minimal is wrong")
	}
}
