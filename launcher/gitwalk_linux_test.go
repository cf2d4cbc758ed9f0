package launcher

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/safefs"
)

// TestWalkGitUnread: a directory the walk cannot list is reported with why, never passed over
// in silence: one deeper than PATH_MAX (an agent can make one, name by name, and hide a
// repository in it) and, for a user, one the agent made execute-only (still entered by name).
func TestWalkGitUnread(t *testing.T) {
	base := t.TempDir()
	// 25 names of 200 bytes: 5,025 bytes beneath base, more than PATH_MAX.
	dir, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 200)
	var deep []string
	for range 25 {
		if err := unix.Mkdirat(dir, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(dir)
		if err != nil {
			t.Fatal(err)
		}
		dir = next
		deep = append(deep, name)
	}
	unix.Close(dir)
	makeEntries(t, base, gitDirEntries("shallow/.git")...)
	locked := filepath.Join(base, "locked")
	if os.Geteuid() != 0 {
		makeEntries(t, base, gitDirEntries("locked/repo/.git")...)
		if err := os.Chmod(locked, 0o111); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(locked, 0o755) })
	}
	r, err := safefs.OpenRoot(base)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	found, stopped, unread, _ := walkGit(r, []string{"."}, 1000, 4)
	if len(found) != 1 || found[0].rel != "shallow/.git" || stopped != "" {
		t.Errorf("found %v, stopped at %q; want shallow/.git alone", found, stopped)
	}
	want := map[string]error{}
	// The deepest name whose path still fits is listed; the one beneath it is not.
	for i := range deep {
		rel := strings.Join(deep[:i+1], "/")
		if len(base)+1+len(rel) >= unix.PathMax {
			want[rel] = unix.ENAMETOOLONG
			break
		}
	}
	if os.Geteuid() != 0 {
		want["locked"] = unix.EACCES
	}
	if len(unread) != len(want) {
		t.Fatalf("could not list %v; want %d directories", unread, len(want))
	}
	for _, u := range unread {
		if w, ok := want[u.rel]; !ok || !errors.Is(u.err, w) {
			t.Errorf("could not list %.40s… (%v); want one of %d with its error", u.rel, u.err, len(want))
		}
	}
}

// TestWalkGitCloses: every directory the walk opens is closed, whatever bound stops it.
func TestWalkGitCloses(t *testing.T) {
	var entries []string
	for i := range 30 {
		entries = append(entries, strings.Repeat("d", i%5+1)+"/"+strings.Repeat("e", i+1)+"/f/")
	}
	r := makeTree(t, entries...)
	open := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := open()
	for _, bound := range []int{1, 3, 7, 40, 1000} {
		walkGit(r, []string{"."}, bound, 2)
		if n := open(); n != before {
			t.Errorf("bound %d: %d descriptors open after the walk, %d before", bound, n, before)
		}
	}
}
