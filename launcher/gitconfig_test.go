package launcher

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGitProgramKeys(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // keys reported as running programs
	}{
		{"ordinary", "[user]\n\tname = A\n[remote \"origin\"]\n\turl = https://example.com/r.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[core]\n\tbare = false\n\tfsmonitor = false\n", nil},
		{"fsmonitor", "[core]\n\tfsmonitor = /tmp/x\n", []string{"core.fsmonitor"}},
		{"case variants", "[Core]\n\tFSMonitor = x\n[CORE]\n\tHooksPath=.h\n", []string{"core.fsmonitor", "core.hookspath"}},
		{"same line as header", "[core] fsmonitor = \"touch /tmp/m\"\n[user]name=a\n", []string{"core.fsmonitor"}},
		{"odd whitespace and quotes", "[core]\n  \t pager\t=  \"les\"s ; comment\n editor=\"vi\\\n m\"\n", []string{"core.pager", "core.editor"}},
		{"dotted subsection", "[diff.foo]\n\ttextconv = cat\n", []string{"diff.foo.textconv"}},
		{"quoted subsection", "[filter \"lfs\"]\n\tsmudge = x\n\tclean = y\n\tprocess = z\n\trequired = true\n", []string{"filter.lfs.smudge", "filter.lfs.clean", "filter.lfs.process"}},
		{"alias", "[alias]\n\tst = status\n\tx = \"  !sh -c id\"\n", []string{"alias.x"}},
		{"include", "[include]\n\tpath = ../evil\n[includeIf \"gitdir:/\"]\n\tpath = x\n", []string{"include.path", "includeif.gitdir:/.path"}},
		{"credential and gpg", "[credential]\n\thelper = !f\n[credential \"https://x\"]\n\thelper = y\n[gpg]\n\tprogram = g\n[gpg \"ssh\"]\n\tprogram = s\n\tdefaultKeyCommand = k\n", []string{"credential.helper", "credential.https://x.helper", "gpg.program", "gpg.ssh.program", "gpg.ssh.defaultkeycommand"}},
		{"remote programs", "[remote \"o\"]\n\turl = ext::sh -c id\n\tuploadpack = x\n\treceivepack = y\n[protocol \"ext\"]\n\tallow = always\n", []string{"remote.o.url", "remote.o.uploadpack", "remote.o.receivepack", "protocol.ext.allow"}},
		{"merge diff sequence", "[merge \"m\"]\n\tdriver = d\n[diff]\n\texternal = e\n[diff \"x\"]\n\tcommand = c\n[sequence]\n\teditor = s\n[pager]\n\tlog = less\n\tdiff = false\n", []string{"merge.m.driver", "diff.external", "diff.x.command", "sequence.editor", "pager.log"}},
		{"worktree", "[core]\n\tworktree = ../../..\n", []string{"core.worktree"}},
		{"worktree inside", "[core]\n\tworktree = ..\n", nil},
		{"bare key", "[core]\n\tfsmonitor\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := parseGitConfig([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				if gitProgramKey(e, "sub/.git") != "" {
					got = append(got, e.Key())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("program keys = %q, want %q", got, tc.want)
			}
			cleaned := cleanGitConfig([]byte(tc.src), dropped(entries))
			after, err := parseGitConfig(cleaned)
			if err != nil {
				t.Fatalf("the cleaned config does not parse: %v\n%s", err, cleaned)
			}
			for _, e := range after {
				if gitProgramKey(e, "sub/.git") != "" {
					t.Errorf("the cleaned config still has %s:\n%s", e.Key(), cleaned)
				}
			}
			if len(after) != len(entries)-len(got) {
				t.Errorf("cleaning kept %d of %d entries, want %d:\n%s", len(after), len(entries), len(entries)-len(got), cleaned)
			}
			checkAgainstGit(t, tc.src, entries)
			checkAgainstGit(t, string(cleaned), after)
		})
	}
}

func dropped(entries []gitEntry) []gitEntry {
	var out []gitEntry
	for _, e := range entries {
		if gitProgramKey(e, "sub/.git") != "" {
			out = append(out, e)
		}
	}
	return out
}

// checkAgainstGit compares the parse with git's own, where git is installed.
func checkAgainstGit(t *testing.T, src string, entries []gitEntry) {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return
	}
	f := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gitPath, "config", "-f", f, "--list", "-z").Output()
	if err != nil {
		t.Fatalf("git config --list: %v\n%s", err, src)
	}
	var want, got []string
	for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if kv != "" {
			want = append(want, kv)
		}
	}
	for _, e := range entries {
		kv := e.Key()
		if !e.Bare {
			kv += "\n" + e.Value
		}
		got = append(got, kv)
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsed %q, git reads %q", got, want)
	}
}

func TestGitConfigRejectsWhatItCannotRead(t *testing.T) {
	for _, src := range []string{"fsmonitor = x\n", "[core\n", "[core \"x]\n", "[core]\n\tpager = \"x\n", "[core]\n\tpager = a\\qb\n"} {
		if _, err := parseGitConfig([]byte(src)); err == nil {
			t.Errorf("parseGitConfig(%q) succeeded", src)
		}
	}
}
