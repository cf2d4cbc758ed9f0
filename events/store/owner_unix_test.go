//go:build unix

package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	const nobody = 65534
	home := t.TempDir()
	dir := filepath.Join(home, ".local", "state", "agentrun")
	s := openStore(t, dir, Options{Owner: &Owner{UID: nobody, GID: nobody}})
	r := beginRun(t, s, RunInfo{ID: "r", Profile: "p"})
	r.Record(flowEvent(time.Now(), 0))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}

	owned := func(t *testing.T, path string, uid int, mode os.FileMode) {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Error(err)
			return
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid || int(st.Gid) != uid {
			t.Errorf("%s: owner %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, uid)
		}
		if mode != 0 && fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	owned(t, home, 0, 0) // existed before
	for _, d := range []string{filepath.Join(home, ".local"), filepath.Join(home, ".local", "state"), dir} {
		owned(t, d, nobody, 0o700)
	}
	owned(t, s.Path(), nobody, 0o600)
	for _, suffix := range []string{"-wal", "-shm"} { // in WAL mode they are there while open
		owned(t, s.Path()+suffix, nobody, 0)
	}
	endRun(t, r, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Opened by root again, without an owner: SQLite gives the new -wal and -shm the
	// database file's owner.
	s = openStore(t, dir, Options{})
	for _, suffix := range []string{"-wal", "-shm"} {
		owned(t, s.Path()+suffix, nobody, 0)
	}
}
