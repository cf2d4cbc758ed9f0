package fileaudit

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestReadPath reads paths from a real process's memory (this one's, through
// process_vm_readv, as the notifier reads a caller's) laid out against page boundaries: short
// and long paths, paths that run into the next page, a path that ends on the last byte before
// an unmapped page (it reads), one whose end lies in that page (it does not), PATH_MAX bytes
// without their NUL (the kernel's ENAMETOOLONG: not read), the empty path and a null address.
func TestReadPath(t *testing.T) {
	const page = 4096
	// Three pages: the third unmapped, so that a read that crosses into it fails.
	mem, err := unix.Mmap(-1, 0, 3*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem) // munmap(2) of a range with an unmapped page in it is well defined
	if err := unix.MunmapPtr(unsafe.Pointer(&mem[2*page]), page); err != nil {
		t.Fatal(err)
	}
	mem = mem[:2*page]
	base := uintptr(unsafe.Pointer(&mem[0]))
	pid := os.Getpid()
	// place writes s and its NUL so that the NUL is at end-1 (end: an offset in mem), and
	// returns the address of s.
	place := func(s string, end int) uintptr {
		clear(mem)
		start := end - len(s) - 1
		copy(mem[start:], s)
		mem[end-1] = 0
		return base + uintptr(start)
	}
	long := "/" + strings.Repeat("d/", (unix.PathMax-2)/2) // PATH_MAX-1 bytes, with its NUL PATH_MAX
	for _, c := range []struct {
		name string
		path string
		end  int
	}{
		{"short, at a page's start", "/tmp/f1", len("/tmp/f1") + 1},
		{"short, across two pages", "/workspace/src/main.go", page + 5},
		{"longer than the first read, in one page", "/" + strings.Repeat("x", 3*pathFirstRead), 2000},
		{"longer than the first read, across two pages", "/" + strings.Repeat("y", 2*pathFirstRead), page + pathFirstRead},
		{"ending just before an unmapped page", "/tmp/last", 2 * page},
		{"PATH_MAX with its NUL, before an unmapped page", long, 2 * page},
	} {
		got, ok := readPath(pid, place(c.path, c.end))
		if !ok || string(got) != c.path {
			t.Errorf("%s: readPath = %.40q…, %v; want the path (%d bytes)", c.name, got, ok, len(c.path))
		}
	}
	// Its NUL in the unmapped page: no path.
	clear(mem)
	start := 2*page - 10
	copy(mem[start:], "/tmp/unterminated")
	if got, ok := readPath(pid, base+uintptr(start)); ok {
		t.Errorf("a path running into an unmapped page: readPath = %q, true; want false", got)
	}
	// PATH_MAX bytes and no NUL among them: what the kernel refuses.
	clear(mem)
	copy(mem, "/"+strings.Repeat("z", unix.PathMax-1))
	mem[unix.PathMax] = 0
	if got, ok := readPath(pid, base); ok {
		t.Errorf("PATH_MAX bytes without a NUL: readPath = %d bytes, true; want false", len(got))
	}
	clear(mem)
	if got, ok := readPath(pid, base); !ok || got != nil {
		t.Errorf("the empty path: readPath = %q, %v; want nil, true", got, ok)
	}
	if _, ok := readPath(pid, 0); ok {
		t.Error("a null address: readPath = true; want false")
	}
	// What readPath returns is the caller's own: a later read does not change it.
	a, _ := readPath(pid, place("/first/path", 100))
	b, _ := readPath(pid, place("/second", 100))
	if string(a) != "/first/path" || string(b) != "/second" || bytes.Equal(a, b) {
		t.Errorf("two reads: %q and %q; want /first/path and /second", a, b)
	}
}

// TestCopyMemory writes and reads back through process_vm_writev and process_vm_readv, and
// fails on an unmapped address.
func TestCopyMemory(t *testing.T) {
	dst := make([]byte, 16)
	addr := uintptr(unsafe.Pointer(&dst[0]))
	if n := writeMemory(os.Getpid(), addr, []byte("written")); n != 7 || string(dst[:7]) != "written" {
		t.Fatalf("writeMemory = %d, memory %q", n, dst)
	}
	got := make([]byte, 7)
	if n := readMemory(os.Getpid(), addr, got); n != 7 || string(got) != "written" {
		t.Fatalf("readMemory = %d, %q", n, got)
	}
	if n := readMemory(os.Getpid(), 8, got); n != -1 {
		t.Errorf("readMemory of an unmapped address = %d; want -1", n)
	}
}
