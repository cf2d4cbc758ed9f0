//go:build linux

package safefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenDirNoLink: a directory is opened for listing beneath the root, never through a
// link; a file is no directory.
func TestOpenDirNoLink(t *testing.T) {
	r, _, _ := tree(t)
	for _, c := range []struct {
		rel  string
		want error
	}{
		{".", nil},
		{"a", nil},
		// Links, to a directory and to a file outside: refused for RESOLVE_NO_SYMLINKS (ELOOP)
		// or, as O_DIRECTORY is checked first here, as no directory (ENOTDIR).
		{"linkdir", errLink},
		{"a/link", errLink},
		{"linkdir/.", errLink},
		{"..", ErrUnsafePath},
		{"a/f", syscall.ENOTDIR},
		{"missing", fs.ErrNotExist},
	} {
		d, err := r.OpenDir(c.rel)
		if err == nil {
			d.Close()
		}
		if c.want == errLink && (errors.Is(err, ErrUnsafePath) || errors.Is(err, syscall.ENOTDIR)) {
			continue
		}
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("OpenDir(%q) = %v; want %v", c.rel, err, c.want)
		}
	}
}

// errLink stands for either refusal of a link in TestOpenDirNoLink.
var errLink = errors.New("a link refused")

// TestDirEntries: every entry but "." and ".." comes once with its type, over as many reads
// as a small buffer needs.
func TestDirEntries(t *testing.T) {
	base := t.TempDir()
	want := map[string]fs.FileMode{"dir": fs.ModeDir, "link": fs.ModeSymlink, "fifo": fs.ModeIrregular}
	if err := os.Mkdir(filepath.Join(base, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dir", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(base, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		name := fmt.Sprintf("file-%03d-%s", i, "padding-to-make-the-entries-longer")
		if err := os.WriteFile(filepath.Join(base, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = 0
	}
	r, err := OpenRoot(base)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, size := range []int{512, 16 << 10} {
		d, err := r.OpenDir(".")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]fs.FileMode{}
		var order []string
		err = d.Entries(make([]byte, size), func(name []byte, typ fs.FileMode) {
			if _, dup := got[string(name)]; dup {
				t.Errorf("buffer %d: %q listed twice", size, name)
			}
			// Where a file system gives no type (DT_UNKNOWN), it is asked: the same answer.
			if u, err := d.typeOf(name, unix.DT_UNKNOWN); err != nil || u != typ {
				t.Errorf("buffer %d: %q without its d_type: %v (%v); want %v", size, name, u, err, typ)
			}
			got[string(name)] = typ
			order = append(order, string(name))
		})
		d.Close()
		if err != nil {
			t.Fatalf("buffer %d: %v", size, err)
		}
		if len(got) != len(want) {
			sort.Strings(order)
			t.Errorf("buffer %d: %d entries; want %d", size, len(got), len(want))
		}
		for name, typ := range want {
			if g, ok := got[name]; !ok || g != typ {
				t.Errorf("buffer %d: %q has type %v (listed: %v); want %v", size, name, g, ok, typ)
			}
		}
	}
}
