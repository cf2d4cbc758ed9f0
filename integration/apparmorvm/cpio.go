package apparmorvm

import (
	"fmt"
	"io"
)

// cpioWriter writes the "newc" cpio format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst): for each entry a 110-byte
// ASCII header, the NUL-terminated name and the data, each padded to 4 bytes; then a
// TRAILER!!! entry. Every entry is owned by root, so building an initramfs needs no
// privileges.
type cpioWriter struct {
	w   io.Writer
	ino int
	n   int64 // bytes written, for the padding
	err error
}

// Mode bits of the newc header (the st_mode of the entry).
const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
)

// entry writes one header and name; the caller writes size bytes of data and then pad.
func (c *cpioWriter) entry(name string, mode uint32, size int64, rdevMajor, rdevMinor int) {
	c.ino++
	nlink := 1
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	c.printf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%s\x00",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, len(name)+1, 0, name)
	c.pad()
}

func (c *cpioWriter) printf(format string, args ...any) {
	if c.err != nil {
		return
	}
	n, err := fmt.Fprintf(c.w, format, args...)
	c.n += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if c.err != nil {
		return
	}
	if r := c.n % 4; r != 0 {
		n, err := c.w.Write(make([]byte, 4-r))
		c.n += int64(n)
		c.err = err
	}
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string, perm uint32) { c.entry(name, cpioDir|perm, 0, 0, 0) }

// Symlink adds a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) {
	c.entry(name, cpioSymlink|0o777, int64(len(target)), 0, 0)
	c.printf("%s", target)
	c.pad()
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm uint32, major, minor int) {
	c.entry(name, cpioChar|perm, 0, major, minor)
}

// File adds a regular file of size bytes read from r.
func (c *cpioWriter) File(name string, perm uint32, size int64, r io.Reader) {
	c.entry(name, cpioFile|perm, size, 0, 0)
	if c.err != nil {
		return
	}
	n, err := io.CopyN(c.w, r, size)
	c.n += n
	if err != nil {
		c.err = fmt.Errorf("writing %s into the archive: %w", name, err)
		return
	}
	c.pad()
}

// Close writes the trailer and returns the first error met.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, 0, 0, 0)
	return c.err
}
