package fileaudit

import (
	"reflect"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestSunPath(t *testing.T) {
	addr := func(s string) []byte { return append([]byte{unix.AF_UNIX, 0}, s...) }
	for _, tc := range []struct {
		name string
		sa   []byte
		want string
	}{
		{"absolute", addr("/home/u/.ssh/x.sock\x00"), "/home/u/.ssh/x.sock"},
		{"relative, no NUL", addr("x.sock"), "x.sock"},
		{"abstract", addr("\x00abs"), ""},
		{"unnamed", addr(""), ""},
		{"another family", append([]byte{unix.AF_INET, 0}, "/x"...), ""},
		{"AF_UNSPEC", []byte{0, 0}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sunPath(tc.sa); got != tc.want {
				t.Errorf("sunPath = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseCreds(t *testing.T) {
	c, err := parseCreds("Name:\tx\nUid:\t1000\t1001\t1001\t1001\nGid:\t100\t101\t101\t101\nGroups:\t4 27 101 \n")
	if err != nil {
		t.Fatal(err)
	}
	if want := (&creds{uid: 1001, gid: 101, groups: []int{4, 27, 101}}); !reflect.DeepEqual(c, want) {
		t.Errorf("parseCreds = %+v, want %+v (effective ids)", c, want)
	}
	if _, err := parseCreds("Name:\tx\n"); err == nil {
		t.Error("a status without ids parsed")
	}
}

// The layouts the gate reads from callers are the kernel's.
func TestSocketLayouts(t *testing.T) {
	if s := int(unsafe.Sizeof(unix.Msghdr{})); s != msghdrSize {
		t.Errorf("struct msghdr is %d bytes, the gate reads %d", s, msghdrSize)
	}
	if s := int(unsafe.Sizeof(unix.Iovec{})); s != iovecSize {
		t.Errorf("struct iovec is %d bytes, the gate reads %d", s, iovecSize)
	}
	if s := unix.CmsgLen(0); s != cmsgHeaderSize {
		t.Errorf("struct cmsghdr is %d bytes, the gate reads %d", s, cmsgHeaderSize)
	}
	var m unix.Msghdr
	m.Namelen, m.Iovlen, m.Controllen = 7, 3, 24
	b := unsafe.Slice((*byte)(unsafe.Pointer(&m)), msghdrSize)
	if h := parseMsghdr(b); h.namelen != 7 || h.iovlen != 3 || h.controllen != 24 {
		t.Errorf("parseMsghdr = %+v", h)
	}
}
