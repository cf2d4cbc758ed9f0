//go:build !linux

package safefs

import "io/fs"

// Dir is a directory beneath a Root, open for listing. Outside Linux it is the directory's
// path, each name on the way checked when it is listed.
type Dir struct {
	r   *Root
	rel string
}

// OpenDir opens the directory rel for listing: its path is checked when it is listed (no
// link on the way, the last name included), not twice.
func (r *Root) OpenDir(rel string) (*Dir, error) {
	c, err := clean(rel)
	if err != nil {
		return nil, r.errorf("open", rel, err)
	}
	return &Dir{r: r, rel: c}, nil
}

// Entries calls fn with the name and type (fs.ModeDir, fs.ModeSymlink, 0 for a regular file,
// fs.ModeIrregular for anything else) of each of d's entries; name is valid only during the
// call. buf is not used outside Linux.
func (d *Dir) Entries(buf []byte, fn func(name []byte, typ fs.FileMode)) error {
	ents, err := d.r.ReadDir(d.rel)
	if err != nil {
		return err
	}
	for _, e := range ents {
		t := e.Type()
		switch {
		case t.IsDir():
			t = fs.ModeDir
		case isLink(t):
			t = fs.ModeSymlink
		case t.IsRegular():
			t = 0
		default:
			t = fs.ModeIrregular
		}
		fn([]byte(e.Name()), t)
	}
	return nil
}

// Close does nothing outside Linux.
func (d *Dir) Close() error { return nil }
