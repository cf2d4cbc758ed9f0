package apparmorvm

import (
	"bytes"
	"strings"
	"testing"
)

// TestCPIONewc checks the archive byte for byte against the newc layout the kernel reads.
func TestCPIONewc(t *testing.T) {
	var b bytes.Buffer
	c := &cpioWriter{w: &b}
	c.Dir("etc", 0o755)
	c.File("etc/a", 0o644, 3, strings.NewReader("abc"))
	c.Symlink("l", "etc/a")
	c.CharDev("console", 0o600, 5, 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	header := func(ino, mode, nlink, size, major, minor int, name string) string {
		h := "070701" + hex8(ino) + hex8(mode) + hex8(0) + hex8(0) + hex8(nlink) + hex8(0) + hex8(size) +
			hex8(0) + hex8(0) + hex8(major) + hex8(minor) + hex8(len(name)+1) + hex8(0) + name + "\x00"
		return pad(h)
	}
	want := header(1, 0o040755, 2, 0, 0, 0, "etc") +
		header(2, 0o100644, 1, 3, 0, 0, "etc/a") + "abc\x00" +
		header(3, 0o120777, 1, 5, 0, 0, "l") + "etc/a\x00\x00\x00" +
		header(4, 0o020600, 1, 0, 5, 1, "console") +
		header(5, 0, 1, 0, 0, 0, "TRAILER!!!")
	if got := b.String(); got != want {
		t.Errorf("archive:\n%q\nwant:\n%q", got, want)
	}
}

func hex8(n int) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		s[i] = digits[n&0xf]
		n >>= 4
	}
	return string(s)
}

// pad pads a header that starts at a multiple of 4 to the next one.
func pad(s string) string {
	for len(s)%4 != 0 {
		s += "\x00"
	}
	return s
}
