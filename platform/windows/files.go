package windows

import (
	"os"
	"path/filepath"
)

// osFiles is this host's file system as planning reads it, paths slashed (written natively
// on Windows, as they are).
type osFiles struct{}

// Stat does not follow a final link: a junction or symbolic link is reported as what it is
// (not a directory), and the ACL editor refuses to put an ACE through it.
func (osFiles) Stat(path string) (exists, dir bool) {
	fi, err := os.Lstat(filepath.FromSlash(path))
	if err != nil {
		return false, false
	}
	return true, fi.IsDir() && fi.Mode()&os.ModeSymlink == 0 && fi.Mode()&os.ModeIrregular == 0
}

func (osFiles) List(dir string) ([]string, error) {
	f, err := os.Open(filepath.FromSlash(dir))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
