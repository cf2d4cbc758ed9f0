//go:build unix

package profiles

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileBounded reads what a user may name as a profile or a report: files are read,
// what has no end or is no file is refused, and nothing is read past the bound.
func TestReadFileBounded(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// The ways around the refusal by name: a link to the device, a link to the directory
	// (judged by what was opened, not by the name).
	linkToDevice := filepath.Join(dir, "zero.yaml")
	linkToDir := filepath.Join(dir, "dir.yaml")
	for link, target := range map[string]string{linkToDevice: "/dev/zero", linkToDir: dir} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, path, want, wantErr string
		tooLarge                  bool
	}{
		{name: "a file", path: small, want: "name: x\n"},
		{name: "a file past the bound", path: big, wantErr: "101 bytes, more than 100", tooLarge: true},
		{name: "a directory", path: dir, wantErr: "is a directory"},
		{name: "a device without end", path: "/dev/zero", wantErr: "is a device"},
		{name: "a link to a device", path: linkToDevice, wantErr: "is a device"},
		{name: "a link to a directory", path: linkToDir, wantErr: "is a directory"},
		{name: "a named pipe without a writer", path: fifo, want: ""},
		{name: "missing", path: filepath.Join(dir, "none"), wantErr: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadFileBounded(tc.path, 100)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, ErrTooLarge) != tc.tooLarge {
					t.Fatalf("want an error with %q (too large: %v), got %v", tc.wantErr, tc.tooLarge, err)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("want %q, got %q, %v", tc.want, b, err)
			}
		})
	}
	// A pipe with a writer (a shell's <(command)) is read to its end, up to the bound.
	for _, n := range []int{100, 1 << 20} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			_, _ = w.Write(make([]byte, n)) // fails once the reader has closed: the bound was hit
			w.Close()
		}()
		b, err := ReadFileBounded("/dev/fd/"+strconv.Itoa(int(r.Fd())), 100)
		r.Close()
		if n <= 100 && (err != nil || len(b) != n) {
			t.Errorf("a pipe of %d bytes: got %d, %v", n, len(b), err)
		}
		if n > 100 && !errors.Is(err, ErrTooLarge) {
			t.Errorf("a pipe of %d bytes: want ErrTooLarge, got %d bytes, %v", n, len(b), err)
		}
	}
	var pe *fs.PathError
	if _, err := ReadFileBounded("/dev/zero", 100); !errors.As(err, &pe) || pe.Path != "/dev/zero" {
		t.Errorf("a refusal names the file: %v", err)
	}
}
