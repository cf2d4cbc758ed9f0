package linux

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFindStage: agentrun runs agentrun-stage only when it lies beside agentrun, is the
// binary itself (no symlink), comes from agentrun's build (its Go build ID), and nobody but
// root or agentrun's owner can have written it; otherwise it starts itself, and says why
// when a stage binary is there but refused. Run as root (the files are root's), the owner
// cases are made with chown.
func TestFindStage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the files other owners")
	}
	const id = "aaaa/bbbb/cccc/dddd"
	defer func(was string) { stageBuildID = was }(stageBuildID)
	stageBuildID = id
	ours := append(append([]byte("\x7fELF"), make([]byte, 900)...), goBuildIDNote(id)...)
	other := append(append([]byte("\x7fELF"), make([]byte, 900)...), goBuildIDNote("zzzz/bbbb/cccc/dddd")...)
	for _, c := range []struct {
		name   string
		make   func(t *testing.T, stage string)
		used   bool
		refuse string // in the warning; "" for none
	}{
		{"from agentrun's build", func(t *testing.T, s string) { writeWithMode(t, s, ours, 0o755) }, true, ""},
		{"none", func(t *testing.T, s string) {}, false, ""},
		{"another build's", func(t *testing.T, s string) { writeWithMode(t, s, other, 0o755) }, false, "not from agentrun's build"},
		{"a build ID past the file's start", func(t *testing.T, s string) {
			writeWithMode(t, s, append(make([]byte, 9000), ours...), 0o755)
		}, false, "not from agentrun's build"},
		{"writable by its group", func(t *testing.T, s string) { writeWithMode(t, s, ours, 0o775) }, false, "others may write it"},
		{"writable by anyone", func(t *testing.T, s string) { writeWithMode(t, s, ours, 0o757) }, false, "others may write it"},
		{"not executable", func(t *testing.T, s string) { writeWithMode(t, s, ours, 0o644) }, false, "not executable"},
		{"another user's", func(t *testing.T, s string) {
			writeWithMode(t, s, ours, 0o755)
			if err := os.Chown(s, 12345, 0); err != nil {
				t.Fatal(err)
			}
		}, false, "belongs to uid 12345"},
		{"a symlink to ours", func(t *testing.T, s string) {
			real := filepath.Join(filepath.Dir(s), "real")
			writeWithMode(t, real, ours, 0o755)
			if err := os.Symlink(real, s); err != nil {
				t.Fatal(err)
			}
		}, false, "symbolic link"},
		{"a named pipe (opening it must not wait for a writer)", func(t *testing.T, s string) {
			if err := unix.Mkfifo(s, 0o755); err != nil {
				t.Fatal(err)
			}
		}, false, "not a regular file"},
		{"a directory", func(t *testing.T, s string) {
			if err := os.Mkdir(s, 0o755); err != nil {
				t.Fatal(err)
			}
		}, false, "not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			self := filepath.Join(dir, "agentrun")
			writeWithMode(t, self, []byte("agentrun"), 0o755)
			stage := filepath.Join(dir, stageName)
			c.make(t, stage)
			var warn bytes.Buffer
			b := findStage(self, &warn)
			defer b.started()
			if used := b.file != nil; used != c.used || (used && b.path != stage) || (!used && b.path != self) {
				t.Fatalf("stage binary %q (opened: %v), want the stage binary used: %v", b.path, used, c.used)
			}
			if c.refuse == "" && warn.Len() > 0 || !strings.Contains(warn.String(), c.refuse) {
				t.Fatalf("warning %q, want one saying %q", warn.String(), c.refuse)
			}
			if c.used {
				// Replaced after the check: what runs is what was checked, the descriptor's.
				other := filepath.Join(dir, "other")
				writeWithMode(t, other, []byte("another program"), 0o755)
				if err := os.Rename(other, stage); err != nil {
					t.Fatal(err)
				}
				if got, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(b.file.Fd()))); err != nil || !bytes.Equal(got, ours) {
					t.Fatalf("after the stage binary was replaced, its descriptor reads %.20q (%v), want the checked file", got, err)
				}
				cmd := b.command(os.Stdin)
				if cmd.Path != "/proc/self/fd/4" || len(cmd.ExtraFiles) != 2 || cmd.ExtraFiles[1] != b.file || cmd.Args[0] != stageName {
					t.Fatalf("command %q %q with %d descriptors, want the stage binary's descriptor after the others", cmd.Path, cmd.Args, len(cmd.ExtraFiles))
				}
			}
		})
	}
	t.Run("a plain build", func(t *testing.T) {
		stageBuildID = ""
		dir := t.TempDir()
		self := filepath.Join(dir, "agentrun")
		writeWithMode(t, self, []byte("agentrun"), 0o755)
		writeWithMode(t, filepath.Join(dir, stageName), ours, 0o755)
		var warn bytes.Buffer
		if b := findStage(self, &warn); b.file != nil || b.path != self || warn.Len() > 0 {
			t.Fatalf("a build without a stage build ID uses %q, warning %q", b.path, warn.String())
		}
	})
}

func writeWithMode(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}
