package launcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// TestCheckInherited refuses a directory or a denied file as a standard stream, and a
// protected file open for writing; pipes and other files pass.
func TestCheckInherited(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"secret/key", "ok.txt", "hooks/pre-commit"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(p string) []profiles.PathRule {
		return []profiles.PathRule{{Path: filepath.Join(dir, p), Pattern: p}}
	}
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{
		Read: rule(""), Deny: rule("secret"), Protect: rule("hooks"),
	}}
	open := func(name string, flag int) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	tests := []struct {
		name  string
		stdio Stdio
		want  string
	}{
		{"pipes", Stdio{Stdin: pr, Stdout: pw, Stderr: pw}, ""},
		{"readable file", Stdio{Stdin: open("ok.txt", os.O_RDONLY)}, ""},
		{"file to write", Stdio{Stdout: open("ok.txt", os.O_WRONLY)}, ""},
		{"protected file to read", Stdio{Stdin: open("hooks/pre-commit", os.O_RDONLY)}, ""},
		{"directory", Stdio{Stdin: open(".", os.O_RDONLY)}, "standard input (<) is the directory"},
		{"denied directory", Stdio{Stdin: open("secret", os.O_RDONLY)}, "is the directory"},
		{"denied file", Stdio{Stdin: open("secret/key", os.O_RDONLY)}, "which the profile denies"},
		{"O_PATH denied file", Stdio{Stderr: open("secret/key", os.O_RDONLY|unix.O_PATH)}, "standard error (2>) is"},
		{"protected file to write", Stdio{Stdout: open("hooks/pre-commit", os.O_WRONLY)}, "which the profile protects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkInherited(pol, tc.stdio)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
