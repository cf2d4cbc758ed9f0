//go:build linux && amd64

package kopens

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestOffsetsFieldsAll: the cache's list of fields is every offset of the struct, so that a
// field added later is cached too (or the test says so).
func TestOffsetsFieldsAll(t *testing.T) {
	var o offsets
	n := 0
	for f := range reflect.TypeOf(o).Fields() {
		if f.Type.Kind() == reflect.Int32 {
			n++
		}
	}
	if got := len(o.fields()); got != n {
		t.Fatalf("offsets.fields lists %d fields, the struct has %d int32 fields", got, n)
	}
	seen := map[*int32]bool{}
	for _, p := range o.fields() {
		if seen[p] {
			t.Fatal("offsets.fields lists a field twice")
		}
		seen[p] = true
	}
}

// TestOffsetsCache: the first load reads the BTF and writes the cache; the next reads the
// cache (the same offsets), unless it is of another kernel, writable by others, or a symlink.
func TestOffsetsCache(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("no kernel BTF")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	path := filepath.Join(dir, "kernel-offsets")
	want, err := offsetsFrom(path)
	if err != nil {
		t.Fatal(err)
	}
	kernel, err := runningKernel()
	if err != nil {
		t.Fatal(err)
	}
	got, ok := readOffsets(path, kernel)
	if !ok || got != want {
		t.Fatalf("the cache after a load: %v, %+v; want %+v", ok, got, want)
	}
	if _, ok := readOffsets(path, kernel+" another"); ok {
		t.Error("a cache of another kernel was read")
	}
	// Written by someone else: ignored.
	refusedAs := func(what, target string, mode, back os.FileMode) {
		t.Helper()
		if err := os.Chmod(target, mode); err != nil {
			t.Fatal(err)
		}
		if _, ok := readOffsets(path, kernel); ok {
			t.Error(what)
		}
		if err := os.Chmod(target, back); err != nil {
			t.Fatal(err)
		}
	}
	refusedAs("a cache others may write was read", path, 0o666, 0o600)
	refusedAs("a cache in a directory others may write was read", dir, 0o777, 0o700)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, ok := readOffsets(link, kernel); ok {
		t.Error("a cache read through a symlink")
	}
	// The directory replaced by a symlink to one of this user's: refused too (a directory
	// others may write above it could have been swapped).
	dirLink := filepath.Join(filepath.Dir(dir), "cache-link")
	if err := os.Symlink(dir, dirLink); err != nil {
		t.Fatal(err)
	}
	if _, ok := readOffsets(filepath.Join(dirLink, "kernel-offsets"), kernel); ok {
		t.Error("a cache read through a symlinked directory")
	}
	if err := writeOffsets(filepath.Join(dirLink, "kernel-offsets"), kernel, want); err == nil {
		t.Error("a cache written through a symlinked directory")
	}
	// Another user's file under a second name (a hardlink): refused by its owner.
	if os.Geteuid() == 0 {
		hard := filepath.Join(dir, "hard")
		if err := os.Link(path, hard); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, 65534, 65534); err != nil { // the inode both names share
			t.Fatal(err)
		}
		if _, ok := readOffsets(hard, kernel); ok {
			t.Error("a cache owned by another user was read through a hardlink")
		}
		if err := os.Chown(path, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	// A corrupt cache is read from the BTF again, and rewritten.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := offsetsFrom(path); err != nil || got != want {
		t.Errorf("after a corrupt cache: %+v, %v", got, err)
	}
	if _, ok := readOffsets(path, kernel); !ok {
		t.Error("the corrupt cache was not rewritten")
	}
}
