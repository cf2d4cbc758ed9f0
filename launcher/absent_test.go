package launcher

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

func TestGroupKey(t *testing.T) {
	const home = "/home/u"
	for _, tc := range []struct{ path, want string }{
		{"/home/u/.config/foo/config.toml", "/home/u/.config/foo"},
		{"/home/u/.config/foo/a/b/c", "/home/u/.config/foo"},
		{"/home/u/.config/foo", "/home/u/.config/foo"},
		{"/home/u/.local/share/app/db", "/home/u/.local/share/app"},
		{"/home/u/.local/bin/tool", "/home/u/.local/bin"},
		{"/home/u/.cache/pip/http/x", "/home/u/.cache/pip"},
		{"/home/u/.foorc", "/home/u/.foorc"},
		{"/home/u/Documents/taxes/2024.pdf", "/home/u/Documents"},
		{"/home/uu/x/y", "/home/uu"},
		{"/opt/tool/lib/x.so", "/opt/tool"},
		{"/opt/tool", "/opt/tool"},
		{"/srv", "/srv"},
	} {
		if got := groupKey(tc.path, home); got != tc.want {
			t.Errorf("groupKey(%s) = %s, want %s", tc.path, got, tc.want)
		}
	}
}

func fileEvent(path, op string, v events.Verdict, reason string) events.Event {
	return events.Event{Kind: events.KindFile, Op: op, Path: path, Verdict: v, Reason: reason}
}

func TestAbsentLines(t *testing.T) {
	const home = "/home/u"
	deny := []profiles.PathRule{{Path: "/home/u/.ssh/id_ed25519", Pattern: "~/.ssh/id_ed25519"}}
	enforce := &profiles.Policy{Name: "claude", Mode: profiles.ModeEnforce, Filesystem: profiles.FilesystemPolicy{Deny: deny}}
	audit := &profiles.Policy{Name: "claude", Mode: profiles.ModeAudit}
	fix := absentFix{learn: "agentrun learn claude", where: "a profile of yours with `extends: [claude]`"}
	probe := func(a events.Sink) {
		for i := range 200 {
			a.Record(fileEvent(fmt.Sprintf("/home/u/.config/foo/f%03d", i), "read", events.Denied, profiles.ReasonNotCovered))
		}
	}
	for _, tc := range []struct {
		name   string
		pol    *profiles.Policy
		fix    absentFix
		events func(events.Sink)
		want   []string
	}{
		{"nothing absent: nothing said", enforce, fix, func(a events.Sink) {
			a.Record(fileEvent("/home/u/.ssh/id_ed25519", "read", events.Denied, "denied by the profile"))
			a.Record(fileEvent("/usr/bin/x", "read", events.Allowed, ""))
			a.Record(events.Event{Kind: events.KindExec, Path: "/home/u/bin/x", Verdict: events.Denied, Reason: profiles.ReasonNotCovered})
		}, nil},
		{"one file", enforce, fix, func(a events.Sink) {
			a.Record(fileEvent("/home/u/.config/foo/config.toml", "read", events.Denied, profiles.ReasonNotCovered))
			a.Record(fileEvent("/home/u/.config/foo/config.toml", "read", events.Denied, profiles.ReasonNotCovered))
		}, []string{
			"1 path the agent reached for is not in the sandbox: no filesystem rule names it (the home directory shows only the paths profiles name)",
			"  ~/.config/foo/config.toml",
			"if the agent needs it, `agentrun learn claude` proposes rules from this run, or add `filesystem: {read: [~/.config/foo/config.toml]}` to a profile of yours with `extends: [claude]`",
		}},
		{"a tool probing 200 files: one line for its directory", enforce, fix, probe, []string{
			"200 paths the agent reached for are not in the sandbox: no filesystem rule names them (the home directory shows only the paths profiles name)",
			"  ~/.config/foo/ (200 paths, e.g. ~/.config/foo/f000)",
			"if the agent needs them, `agentrun learn claude` proposes rules from this run, or add `filesystem: {read: [~/.config/foo]}` to a profile of yours with `extends: [claude]`",
		}},
		{"writes want a write rule; no store, no learn; outside the home", enforce, absentFix{where: "/p/mine.yaml"}, func(a events.Sink) {
			a.Record(fileEvent("/home/u/data/a.log", "create", events.Denied, profiles.ReasonNotCovered))
			a.Record(fileEvent("/home/u/data/b.log", "read", events.Denied, profiles.ReasonNotCovered))
			a.Record(fileEvent("/opt/tool/lib/x.so", "read", events.Denied, profiles.ReasonNotCovered))
		}, []string{
			"3 paths the agent reached for are not in the sandbox: no filesystem rule names them (the home directory shows only the paths profiles name)",
			"  ~/data/ (2 paths, e.g. ~/data/a.log)",
			"  /opt/tool/lib/x.so",
			"if the agent needs them, add `filesystem: {read: [/opt/tool/lib/x.so], write: [~/data]}` to /p/mine.yaml",
		}},
		{"a directory holding a denied path is not proposed whole", enforce, fix, func(a events.Sink) {
			for _, f := range []string{"known_hosts", "config", "id_work", "id_work2"} {
				a.Record(fileEvent("/home/u/.ssh/"+f, "read", events.Denied, profiles.ReasonNotCovered))
			}
		}, []string{
			"4 paths the agent reached for are not in the sandbox: no filesystem rule names them (the home directory shows only the paths profiles name)",
			"  ~/.ssh/ (4 paths, e.g. ~/.ssh/config)",
			"if the agent needs them, `agentrun learn claude` proposes rules from this run, or add `filesystem: {read: [~/.ssh/config, ~/.ssh/id_work, ~/.ssh/id_work2]}` to a profile of yours with `extends: [claude]`",
		}},
		{"what a built-in profile denies is never proposed", enforce, absentFix{learn: "agentrun learn claude", where: "x.yaml", deny: []profiles.PathRule{{Path: "/home/u/.ssh/id_*"}}}, func(a events.Sink) {
			a.Record(fileEvent("/home/u/.ssh/id_odd", "read", events.Denied, profiles.ReasonNotCovered))
			a.Record(fileEvent("/home/u/.ssh/config", "read", events.Denied, profiles.ReasonNotCovered))
			a.Record(fileEvent("/home/u/.pgpass", "read", events.Denied, profiles.ReasonNotCovered))
		}, []string{
			"3 paths the agent reached for are not in the sandbox: no filesystem rule names them (the home directory shows only the paths profiles name)",
			"  ~/.ssh/ (2 paths, e.g. ~/.ssh/config)",
			"  ~/.pgpass",
			"if the agent needs them, `agentrun learn claude` proposes rules from this run, or add `filesystem: {read: [~/.ssh/config, ~/.pgpass]}` to x.yaml (1 path a profile denies as a secret is not proposed)",
		}},
		{"only secrets: no rule", enforce, absentFix{where: "x.yaml", deny: []profiles.PathRule{{Path: "/home/u/.ssh/id_*"}}}, func(a events.Sink) {
			a.Record(fileEvent("/home/u/.ssh/id_odd", "read", events.Denied, profiles.ReasonNotCovered))
		}, []string{
			"1 path the agent reached for is not in the sandbox: no filesystem rule names it (the home directory shows only the paths profiles name)",
			"  ~/.ssh/id_odd",
			"a profile denies it as a secret: agentrun never proposes a rule for it",
		}},
		{"many directories: a handful of lines", enforce, fix, func(a events.Sink) {
			for i := range 7 {
				a.Record(fileEvent(fmt.Sprintf("/home/u/.tool%d/x", i), "read", events.Denied, profiles.ReasonNotCovered))
			}
		}, []string{
			"7 paths the agent reached for are not in the sandbox: no filesystem rule names them (the home directory shows only the paths profiles name)",
			"  ~/.tool0/x", "  ~/.tool1/x", "  ~/.tool2/x", "  ~/.tool3/x",
			"  and 3 more directories (agentrun log lists them)",
			"if the agent needs them, `agentrun learn claude` proposes rules from this run, or add `filesystem: {read: [~/.tool0/x, ~/.tool1/x, ~/.tool2/x, ~/.tool3/x, ~/.tool4/x, ~/.tool5/x, ~/.tool6/x]}` to a profile of yours with `extends: [claude]`",
		}},
		{"the agent's strings are escaped", enforce, fix, func(a events.Sink) {
			a.Record(fileEvent("/home/u/.x\x1b[2J", "read", events.Denied, profiles.ReasonNotCovered))
		}, []string{
			"1 path the agent reached for is not in the sandbox: no filesystem rule names it (the home directory shows only the paths profiles name)",
			`  ~/.x\x1b[2J`,
			"if the agent needs it, `agentrun learn claude` proposes rules from this run, or add `filesystem: {read: [\"~/.x\\\\x1b[2J\"]}` to a profile of yours with `extends: [claude]`",
		}},
		{"audit: one line and learn", audit, fix, probe, []string{
			"200 paths no filesystem rule names would be absent in enforce mode (the home directory shows only the paths profiles name): ~/.config/foo/ (200 paths, e.g. ~/.config/foo/f000); `agentrun learn claude` proposes rules for them",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &absentNotes{}
			var sink events.Sink = a
			if tc.pol.Mode == profiles.ModeAudit {
				sink = wouldDeny{a}
			}
			tc.events(sink)
			got := a.lines(tc.pol, home, tc.fix)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// wouldDeny turns denials into would-be denials, as audit mode records them.
type wouldDeny struct{ s events.Sink }

func (w wouldDeny) Record(e events.Event) {
	if e.Verdict == events.Denied {
		e.Verdict = events.WouldDeny
	}
	w.s.Record(e)
}
