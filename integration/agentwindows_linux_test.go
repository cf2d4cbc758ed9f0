package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUserChangesBetweenRunsKept: what the user changes between two runs is theirs, though
// older than the second run: a repository's hook and a config key that runs a program stay,
// and nothing is said about them. What an agent changed in the first run is the agent's
// (the escape attempts "… from an earlier run …"): the windows of agent runs tell them apart.
func TestUserChangesBetweenRunsKept(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		r := newRunner(t, unprivileged)
		nestedRepoSetup(t, r)
		args := []string{"--profile", filepath.Join(r.home, "postrun.yaml"), "--network", "none", "--", "sh", "-c"}
		if res := r.run(t, append(args, "git -C sub status -s >/dev/null")...); res.code != 0 {
			t.Fatalf("first run: %s", res)
		}
		time.Sleep(50 * time.Millisecond) // past the coarse clock's tick
		hostGit(r, "sub", "config", "core.sshCommand", "ssh -i ~/.ssh/work")
		hook := filepath.Join(r.ws, "sub/.git/hooks/pre-commit")
		if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if unprivileged {
			os.Chown(hook, r.uid, r.gid)
		}
		time.Sleep(50 * time.Millisecond)
		res := r.run(t, append(args, "git -C sub status -s >/dev/null && echo later >> README.md")...)
		if res.code != 0 || strings.Contains(res.stderr, "sub/.git") {
			t.Errorf("second run: want no word about sub's repository: %s", res)
		}
		if out := hostGit(r, "sub", "config", "core.sshCommand"); !strings.Contains(out, "ssh -i") {
			t.Errorf("the user's core.sshCommand is gone: %q", out)
		}
		if _, err := os.Stat(hook); err != nil {
			t.Errorf("the user's hook is gone: %v", err)
		}
	}
}
