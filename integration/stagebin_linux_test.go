package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stageBin is the agentrun-stage built with agentrunBin, beside it.
func stageBin() string { return filepath.Join(filepath.Dir(agentrunBin), "agentrun-stage") }

// TestStageBinary: agentrun starts the agentrun-stage of its own build, which lies beside it,
// as the sandbox's stage (the agent's parent); one it must not trust or from another build is
// refused with a warning that says why, and agentrun starts itself instead; with none, it
// starts itself and says nothing. The agent runs either way, holding no descriptor but its
// standard three: as root and as a user, in the namespace tier and the Landlock + seccomp tier.
func TestStageBinary(t *testing.T) {
	stage := stageBin()
	cases := []struct {
		name   string
		make   func(t *testing.T, dir string) // dir holds agentrun
		used   bool
		refuse string
	}{
		{"as built", func(t *testing.T, dir string) { copyExec(t, stage, filepath.Join(dir, "agentrun-stage")) }, true, ""},
		{"none", func(t *testing.T, dir string) {}, false, ""},
		{"writable by its group", func(t *testing.T, dir string) {
			copyExec(t, stage, filepath.Join(dir, "agentrun-stage"))
			if err := os.Chmod(filepath.Join(dir, "agentrun-stage"), 0o775); err != nil {
				t.Fatal(err)
			}
		}, false, "others may write it"},
		{"another program", func(t *testing.T, dir string) {
			copyExec(t, "/bin/true", filepath.Join(dir, "agentrun-stage"))
		}, false, "not from agentrun's build"},
	}
	tiers := []struct {
		name  string
		jail  bool
		flags []string
	}{
		{"namespaces", false, nil},
		{"landlock", true, []string{"--allow-degraded", "--allow-unprotected"}},
	}
	asRootAndUser(t, func(t *testing.T, r *runner) {
		for _, tier := range tiers {
			if tier.jail && !r.unprivate {
				continue // root has namespaces
			}
			for _, c := range cases {
				t.Run(tier.name+"/"+c.name, func(t *testing.T) {
					dir, err := os.MkdirTemp("", "agentrun-stagebin-") // the user reaches it
					if err != nil {
						t.Fatal(err)
					}
					defer os.RemoveAll(dir)
					if err := os.Chmod(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					r.bin = filepath.Join(dir, "agentrun")
					defer func() { r.bin = "" }()
					r.jail = tier.jail
					defer func() { r.jail = false }()
					copyExec(t, agentrunBin, r.bin)
					c.make(t, dir)
					// ls in no pipeline: the shell holds a pipeline's pipe while its
					// first command lists the shell's descriptors (3 and 4, now and then).
					res := r.sh(t, `tr '\0' ' ' < /proc/$PPID/cmdline; echo; ls /proc/$$/fd`, tier.flags...)
					if res.code != 0 {
						t.Fatalf("the run failed: %s", res)
					}
					parent, fds, _ := strings.Cut(res.stdout, "\n")
					// The stage binary's descriptor (the stage's last) is not the agent's.
					if strings.Join(strings.Fields(fds), " ") != "0 1 2" {
						t.Errorf("the agent's descriptors: %q, want 0 1 2", fds)
					}
					want := r.bin + " __agentrun_stage"
					if c.used {
						want = "agentrun-stage __agentrun_stage"
					}
					if strings.TrimSpace(parent) != want {
						t.Errorf("the agent's parent is %q, want %q", parent, want)
					}
					warned := strings.Contains(res.stderr, "not using "+filepath.Join(dir, "agentrun-stage"))
					if (c.refuse == "") == warned || !strings.Contains(res.stderr, c.refuse) {
						t.Errorf("stderr %q, want a warning saying %q", res.stderr, c.refuse)
					}
					// doctor says the same.
					doctor := r.run(t, "doctor")
					want = `(?m)^  stage +agentrun itself`
					if c.used {
						want = `(?m)^  stage +` + regexp.QuoteMeta(filepath.Join(dir, "agentrun-stage")+" (from agentrun's own build)") + `$`
					}
					if !regexp.MustCompile(want).MatchString(doctor.stdout) || !strings.Contains(doctor.stdout, c.refuse) {
						t.Errorf("doctor says %s\nwant a line %s saying %q", doctor.stdout, want, c.refuse)
					}
				})
			}
		}
	})
}
