//go:build linux && amd64

package fileaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/kopens"
	"github.com/agentrun/agentrun/profiles"
)

// TestScopeOf: audit mode stops notifying reads only where the kernel's recorder of reads is
// loaded; enforce mode notifies execs only, whether or not the kernel's refusals can be read
// (issue 13: no file call waits); --trace notifies every call.
func TestScopeOf(t *testing.T) {
	tests := []struct {
		name          string
		mode          profiles.Mode
		events, trace bool
		reads         bool
		want          Scope
	}{
		{"no events", profiles.ModeAudit, false, false, true, WatchNothing},
		{"no events, enforce", profiles.ModeEnforce, false, false, true, WatchNothing},
		{"enforce", profiles.ModeEnforce, true, false, false, WatchExecs},
		{"enforce, reads recorder", profiles.ModeEnforce, true, false, true, WatchExecs},
		{"enforce, trace", profiles.ModeEnforce, true, true, true, WatchFiles},
		{"audit rootless", profiles.ModeAudit, true, false, false, WatchFiles},
		{"audit as root", profiles.ModeAudit, true, false, true, WatchKernelReads},
		{"audit as root, trace", profiles.ModeAudit, true, true, true, WatchFiles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := &platform.Spec{Trace: tc.trace}
			if tc.events {
				spec.Events = &collect{}
			}
			if got := ScopeOf(&profiles.Policy{Mode: tc.mode}, spec, tc.reads); got != tc.want {
				t.Errorf("ScopeOf = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestOpened judges records as the kernel's recorder of opened files makes them, of this
// process and of one that has ended, in audit mode: a read the policy denies is a would-deny
// with its rule and process; a read it allows, an open that writes (the notifications report
// those) and an O_PATH handle are no event; a path the recorder could not read whole is a
// would-deny of rule "path resolution".
func TestOpened(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	work, secret := filepath.Join(dir, "work"), filepath.Join(dir, "secret")
	for _, d := range []string{work, secret} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	allowed, denied := filepath.Join(work, "file"), filepath.Join(secret, "key")
	for _, f := range []string{allowed, denied} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pol := &profiles.Policy{Mode: profiles.ModeAudit, Filesystem: profiles.FilesystemPolicy{
		Read: []profiles.PathRule{{Path: work, Pattern: work}},
		Deny: []profiles.PathRule{{Path: secret, Pattern: secret}},
	}}
	gone := 1<<22 + 7 // above pid_max's default: no process
	tid, pid := unix.Gettid(), os.Getpid()
	tests := []struct {
		name     string
		rec      kopens.Open
		wantPath string // of the one would-deny; "" for none
		wantRule string
		wantProc string // a prefix of the event's process
	}{
		{"denied read", kopens.Open{Nr: unix.SYS_OPENAT, Path: denied}, denied, "filesystem.deny", ""},
		{"denied directory", kopens.Open{Nr: unix.SYS_OPENAT, Flags: unix.O_DIRECTORY, Path: secret}, secret, "filesystem.deny", ""},
		{"denied read, open(2)", kopens.Open{Nr: unix.SYS_OPEN, Flags: unix.O_NONBLOCK, Path: denied}, denied, "filesystem.deny", ""},
		{"allowed read", kopens.Open{Nr: unix.SYS_OPENAT, Path: allowed}, "", "", ""},
		{"a write: notified", kopens.Open{Nr: unix.SYS_OPENAT, Flags: unix.O_WRONLY, Path: denied}, "", "", ""},
		{"a creation: notified", kopens.Open{Nr: unix.SYS_OPENAT, Flags: unix.O_CREAT, Path: denied}, "", "", ""},
		{"a handle", kopens.Open{Nr: unix.SYS_OPENAT, Flags: unix.O_PATH, Path: denied}, "", "", ""},
		{"openat2: ENOSYS in the sandbox", kopens.Open{Nr: unix.SYS_OPENAT2, Path: denied}, "", "", ""},
		{"a pipe", kopens.Open{Nr: unix.SYS_OPENAT, Path: "/pipe:[1234]", Status: kopens.Outside}, "", "", ""},
		{"too deep", kopens.Open{Nr: unix.SYS_OPENAT, Path: "/k/l/m", Status: kopens.Truncated}, "…/k/l/m", "path resolution", ""},
		{"of a process that has ended", kopens.Open{Tid: uint32(gone), Tgid: uint32(gone), Comm: "rg", Nr: unix.SYS_OPENAT, Path: denied}, denied, "filesystem.deny", "rg (pid "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &collect{}
			o := Observe(pol, &platform.Spec{Events: sink}, WatchKernelReads, "/nonexistent/agentrun", 1)
			defer o.Close()
			v, err := openView(tid)
			if err != nil {
				t.Fatal(err)
			}
			o.refused.own.learn(v)
			v.close()
			defer o.refused.own.forget()
			// This process's view is the host's, where /tmp may be a file system of its
			// own: nothing here is a sandbox's own.
			clear(o.refused.own.devs)
			o.serving.Store(true)
			rec := tc.rec
			if rec.Tid == 0 {
				rec.Tid, rec.Tgid = uint32(tid), uint32(pid)
			}
			o.Opened(rec)
			var got []events.Event
			for _, e := range sink.evs {
				if e.Verdict != events.WouldDeny {
					t.Errorf("event %+v: want only would-deny", e)
				}
				got = append(got, e)
			}
			if tc.wantPath == "" {
				if len(got) > 0 {
					t.Errorf("events %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("events %+v, want one would-deny of %s", got, tc.wantPath)
			}
			e := got[0]
			if e.Path != tc.wantPath || e.Op != "read" || !strings.HasPrefix(e.Rule, tc.wantRule) || !strings.HasPrefix(e.Process, tc.wantProc) {
				t.Errorf("event %+v, want a read of %s by rule %s, process %q…", e, tc.wantPath, tc.wantRule, tc.wantProc)
			}
			if e.Process == "" {
				t.Errorf("event %+v names no process", e)
			}
		})
	}
	// Before Serve, nothing is the agent's.
	sink := &collect{}
	o := Observe(pol, &platform.Spec{Events: sink}, WatchKernelReads, "/nonexistent/agentrun", 1)
	defer o.Close()
	o.Opened(kopens.Open{Tid: uint32(tid), Tgid: uint32(pid), Nr: unix.SYS_OPENAT, Path: denied})
	if len(sink.evs) != 0 {
		t.Errorf("before Serve: events %+v", sink.evs)
	}
}
