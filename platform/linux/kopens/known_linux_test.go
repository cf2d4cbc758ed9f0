//go:build linux && amd64

package kopens

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRemember: once a record's directory is remembered, opens of other files in it make no
// record, while opens elsewhere (a directory beside it, one inside it) still do; Forget makes
// the directory unknown again, and remembering a record of the generation before Forget has
// no effect.
func TestRemember(t *testing.T) {
	root, r, open := recorderTree(t, "a/1", "a/2", "a/3", "a/4", "a/sub/1", "a/sub/deeper/1", "b/1")
	first, ok := open("a/1")
	if !ok || parent(t, first).Dentry == 0 || parent(t, first).Ino == 0 {
		t.Fatalf("the first open of a/1: %+v, %v; want a record with its directory", first, ok)
	}
	if err := r.Remember(parent(t, first), false); err != nil {
		t.Fatal(err)
	}
	if o, ok := open("a/2"); ok {
		t.Errorf("a/2 recorded after its directory was remembered: %+v", o)
	}
	if _, ok := open("b/1"); !ok {
		t.Error("b/1, in a directory not remembered, made no record")
	}
	if _, ok := open("a/sub/1"); !ok {
		t.Error("a/sub/1, in a directory below the remembered one, made no record")
	}
	if err := r.Forget(); err != nil {
		t.Fatal(err)
	}
	again, ok := open("a/3")
	if !ok {
		t.Fatal("a/3 made no record after Forget")
	}
	if parent(t, again).Gen == parent(t, first).Gen {
		t.Errorf("the generation did not change with Forget: %d", parent(t, again).Gen)
	}
	if err := r.Remember(parent(t, first), false); err != nil { // a record of the generation before
		t.Fatal(err)
	}
	if _, ok := open("a/4"); !ok {
		t.Error("a/4 made no record: a record of the generation before Forget was remembered")
	}
	if err := r.Remember(parent(t, again), false); err != nil {
		t.Fatal(err)
	}
	if o, ok := open("a/4"); ok {
		t.Errorf("a/4 recorded after its directory was remembered again: %+v", o)
	}

	// a, with everything beneath it: a/sub/deeper/1 makes no record any more, b/1 still does.
	deeper, ok := open("a/sub/deeper/1")
	if !ok {
		t.Fatal("a/sub/deeper/1 made no record")
	}
	a, ok := deeper.DirOf(filepath.Join(root, "a"))
	if !ok {
		t.Fatalf("no key of %s/a in the record %+v", root, deeper)
	}
	if sub, _ := deeper.DirOf(filepath.Join(root, "a/sub")); sub == a || parent(t, deeper) == a {
		t.Fatalf("the keys of a, a/sub and a/sub/deeper are not three: %+v", deeper.Dirs)
	}
	if err := r.Remember(a, true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a/sub/deeper/1", "a/sub/1", "a/1", "a/sub"} {
		if o, ok := open(name); ok {
			t.Errorf("%s recorded after a was remembered with all beneath it: %+v", name, o)
		}
	}
	// The walk that stopped at a made the file's own directory known: the next open there
	// stops before walking.
	sub, _ := deeper.DirOf(filepath.Join(root, "a/sub"))
	if !r.known(sub) {
		t.Error("a/sub is not known after a walk from a/sub/1 stopped at a")
	}
	// a itself is not beneath a: opened, it is recorded (else its directory, root, would be
	// taken for one beneath a).
	if _, ok := open("a"); !ok {
		t.Error("a, opened, made no record")
	}
	if top, _ := deeper.DirOf(root); r.known(top) {
		t.Error("the directory above a became known")
	}
	if _, ok := open("b/1"); !ok {
		t.Error("b/1, beside a, made no record")
	}
}

// known says whether d is in the recorder's map of known directories, of its generation.
func (r *Recorder) known(d Dir) bool {
	var key [keySize]byte
	binary.NativeEndian.PutUint64(key[0:], d.Mnt)
	binary.NativeEndian.PutUint64(key[8:], d.Dentry)
	binary.NativeEndian.PutUint64(key[16:], d.Ino)
	var val [8]byte
	if err := r.m.known.Lookup(key[:], val[:]); err != nil {
		return false
	}
	return binary.NativeEndian.Uint32(val[0:]) == d.Gen
}

// TestMovedAtExit: a thread marked as moving a directory (Moving) starts a new generation when
// its rename is done: a directory remembered before makes records again, and a record made
// before the rename remembers nothing; an unmarked rename changes nothing.
func TestMovedAtExit(t *testing.T) {
	root, r, open := recorderTree(t, "a/1", "a/2", "a/3", "a/4", "a/5", "m/x")
	first, ok := open("a/1")
	if !ok {
		t.Fatal("a/1 made no record")
	}
	if err := r.Remember(parent(t, first), false); err != nil {
		t.Fatal(err)
	}
	if _, ok := open("a/2"); ok {
		t.Fatal("a/2 recorded after a was remembered")
	}
	// Renamed on a thread of its own, marked first: the exit starts a new generation.
	rename := func(from, to string, mark bool) {
		t.Helper()
		done := make(chan error)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if mark {
				if err := r.Moving(unix.Gettid()); err != nil {
					done <- err
					return
				}
			}
			done <- os.Rename(filepath.Join(root, from), filepath.Join(root, to))
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	rename("m", "n", false) // unmarked: nothing changes
	if _, ok := open("a/3"); ok {
		t.Error("a/3 recorded after an unmarked rename")
	}
	rename("n", "m", true)
	again, ok := open("a/4")
	if !ok {
		t.Fatal("a/4 made no record after a marked rename was done")
	}
	if parent(t, again).Gen == parent(t, first).Gen {
		t.Errorf("the generation stayed %d", parent(t, again).Gen)
	}
	if err := r.Remember(parent(t, first), false); err != nil { // of the generation before
		t.Fatal(err)
	}
	if _, ok := open("a/5"); !ok {
		t.Error("a/5 made no record: a record of the generation before the rename was remembered")
	}
}

// recorderTree makes the files under a directory of its own and loads the recorder for this
// process; open opens one of them and returns its record, ok false when there is none (the
// marker opened after it comes first).
func recorderTree(t *testing.T, files ...string) (root string, r *Recorder, open func(name string) (Open, bool)) {
	t.Helper()
	root = rootTempDir(t)
	for _, p := range files {
		makeFile(t, filepath.Join(root, p))
	}
	r = loadSelf(t)
	return root, r, func(name string) (Open, bool) {
		t.Helper()
		p := filepath.Join(root, name)
		openThenMarker(t, p)
		return readUntil(t, r, p)
	}
}

// parent is the key of the directory of o's file.
func parent(t *testing.T, o Open) Dir {
	t.Helper()
	d, ok := o.Parent()
	if !ok {
		t.Fatalf("no directory key in %+v", o)
	}
	return d
}
