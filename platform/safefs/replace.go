package safefs

import (
	"os"
	"path/filepath"
)

// ReplaceFile puts data at the host path p in one rename: a new file beside it, with perm,
// given to uid:gid when uid is not negative. A link at p is replaced, not followed. For files
// agentrun keeps for itself (its store, a report, a learned profile), not the agent's.
func ReplaceFile(p string, data []byte, perm os.FileMode, uid, gid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".new-*")
	if err != nil {
		return err
	}
	err = writeNew(tmp, data, perm, uid, gid)
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// writeNew writes data to f, sets its mode and owner, and closes it.
func writeNew(f *os.File, data []byte, perm os.FileMode, uid, gid int) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil && uid >= 0 {
		err = f.Chown(uid, gid)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
