package launcher

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/agentrun/agentrun/profiles"
)

// linkedFile is a denied file that has hard links besides its own name.
type linkedFile struct {
	Path  string
	Links uint64
}

func (l linkedFile) String() string {
	return fmt.Sprintf("the denied file %s has %d other hard link(s): a link under a readable path reads it in the sandbox; find them with find / -xdev -samefile %s, and remove them", l.Path, l.Links-1, l.Path)
}

// maxLinkChecks bounds how many files linkedDenied looks at, so that a denied browser profile
// does not slow the launch.
const maxLinkChecks = 2000

// linkedDenied finds the denied files with more than one link: the file a deny rule names,
// and the files directly inside a denied directory (~/.aws/credentials). The mounts hide a
// path, not the inode behind it, so a hard link made before the launch in a readable tree
// (the workspace) reads a denied file.
func linkedDenied(pol *profiles.Policy) []linkedFile {
	var out []linkedFile
	checked := 0
	check := func(p string, fi os.FileInfo) {
		checked++
		if fi == nil {
			var err error
			if fi, err = os.Lstat(p); err != nil {
				return
			}
		}
		if !fi.Mode().IsRegular() {
			return
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			out = append(out, linkedFile{Path: p, Links: uint64(st.Nlink)})
		}
	}
	for _, r := range pol.Filesystem.Deny {
		paths := []string{r.Path}
		if profiles.IsPattern(r.Path) {
			paths = profiles.Glob(strings.TrimSuffix(r.Path, "/**"))
		}
		for _, p := range paths {
			if checked >= maxLinkChecks {
				return out
			}
			fi, err := os.Lstat(p)
			if err != nil {
				continue
			}
			if !fi.IsDir() {
				check(p, fi)
				continue
			}
			entries, _ := os.ReadDir(p)
			for _, e := range entries {
				if e.Type().IsRegular() && checked < maxLinkChecks {
					check(filepath.Join(p, e.Name()), nil)
				}
			}
		}
	}
	return out
}
