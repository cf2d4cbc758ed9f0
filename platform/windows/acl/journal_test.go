package acl

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"
)

const (
	sidA = "S-1-15-2-1-2-3-4-5-6-7"
	sidB = "S-1-15-2-9-9-9-9-9-9-9"
)

// p is an absolute path on this OS; the fake Editor never touches it.
func p(name string) string {
	if runtime.GOOS == "windows" {
		return `C:\w\` + filepath.FromSlash(name)
	}
	return "/w/" + name
}

func openJ(t *testing.T, ed Editor) (*Journal, string) {
	t.Helper()
	dir := wintest.TempDir(t)
	j, err := Open(dir, ed)
	if err != nil {
		t.Fatal(err)
	}
	return j, dir
}

func begin(t *testing.T, j *Journal, id, sid string, grants ...Grant) *Run {
	t.Helper()
	r, err := j.Begin(id, sid)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if err := r.Grant(g); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// crash ends a run's life as a killed agentrun would: its lock is released, nothing else.
func crash(r *Run) { r.lock.Close() }

func wantState(t *testing.T, ed *fakeEditor, want map[string]string) {
	t.Helper()
	got := ed.state()
	if len(got) != len(want) {
		t.Errorf("ACLs = %v, want %v", got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ACL of %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func journalRuns(t *testing.T, j *Journal) []string {
	t.Helper()
	c, err := readJournal(j.path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range c.runs() {
		ids = append(ids, s.id)
	}
	return ids
}

func TestEndRevokesAndIsFinal(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	r := begin(t, j, "run1", sidA,
		Grant{Path: p("ws"), Access: Write, Inherit: true},
		Grant{Path: p("ws/.git/hooks"), Access: DenyWrite, Inherit: true},
		Grant{Path: p("ws/.git"), Access: DenyDelete})
	wantState(t, ed, map[string]string{
		p("ws"):            sidA + ":write:true",
		p("ws/.git/hooks"): sidA + ":deny-write:true",
		p("ws/.git"):       sidA + ":deny-delete:false",
	})
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
	wantState(t, ed, nil)
	if _, err := os.Stat(j.runLock("run1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after End: %v, want it removed", err)
	}
	calls := len(ed.calls)
	if err := r.End(); err != nil {
		t.Errorf("second End = %v, want nil", err)
	}
	if len(ed.calls) != calls {
		t.Errorf("second End called the Editor: %v", ed.calls[calls:])
	}
	if err := r.Grant(Grant{Path: p("x"), Access: Read}); !errors.Is(err, ErrEnded) {
		t.Errorf("Grant after End = %v, want ErrEnded", err)
	}
	n, err := j.Recover()
	if n != 0 || err != nil {
		t.Errorf("Recover after End = %d, %v; want 0, nil", n, err)
	}
	if ids := journalRuns(t, j); len(ids) != 0 {
		t.Errorf("journal after Recover holds runs %v, want none", ids)
	}
}

func TestRecoverRevokesCrashedRunOnly(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	dead := begin(t, j, "dead", sidA,
		Grant{Path: p("a"), Access: Write, Inherit: true},
		Grant{Path: p("a/secret"), Access: DenyAll, Inherit: true})
	live := begin(t, j, "live", sidB, Grant{Path: p("b"), Access: ReadExecute, Inherit: true})
	crash(dead)
	ed.calls = nil

	n, err := j.Recover()
	if err != nil || n != 2 {
		t.Fatalf("Recover = %d, %v; want 2, nil", n, err)
	}
	wantState(t, ed, map[string]string{p("b"): sidB + ":read-execute:true"})
	for _, c := range ed.calls {
		if strings.Contains(c, sidB) {
			t.Errorf("Recover touched the live run's SID: %q", c)
		}
	}
	if ids := journalRuns(t, j); !slices.Equal(ids, []string{"live"}) {
		t.Errorf("journal after Recover holds %v, want [live]", ids)
	}
	if _, err := os.Stat(j.runLock("dead")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dead run's lock file after Recover: %v, want removed", err)
	}

	ed.calls = nil
	if n, err := j.Recover(); n != 0 || err != nil || len(ed.calls) != 0 {
		t.Errorf("second Recover = %d, %v, calls %v; want 0, nil, none", n, err, ed.calls)
	}
	if err := live.End(); err != nil {
		t.Fatal(err)
	}
	wantState(t, ed, nil)
}

func TestRecoverAfterCrashBeforeApply(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	r := begin(t, j, "r", sidA)
	// The record is synced, then agentrun dies before Apply.
	if err := j.locked(func() error {
		return j.append(record{Op: opGrant, Run: "r", SID: sidA, Path: p("ws"), Access: Write, Inherit: true})
	}); err != nil {
		t.Fatal(err)
	}
	crash(r)
	n, err := j.Recover()
	if err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1, nil", n, err)
	}
	if !slices.Equal(ed.calls, []string{"set " + sidA + " " + p("ws") + " 0"}) {
		t.Errorf("calls = %v, want one Set removing all", ed.calls)
	}
	wantState(t, ed, nil)
}

func TestRecoverFinishesAFailedEnd(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	r := begin(t, j, "r", sidA,
		Grant{Path: p("one"), Access: Write, Inherit: true},
		Grant{Path: p("two"), Access: Read, Inherit: true})
	ed.failOn = p("two")
	err := r.End()
	if err == nil || !strings.Contains(err.Error(), p("two")) {
		t.Fatalf("End = %v, want an error naming %s", err, p("two"))
	}
	wantState(t, ed, map[string]string{p("two"): sidA + ":read:true"})
	// End released the lock even so: the run is dead, and Recover finishes its revocation.
	ed.failOn = ""
	n, err := j.Recover()
	if err != nil || n != 2 {
		t.Fatalf("Recover = %d, %v; want 2, nil", n, err)
	}
	wantState(t, ed, nil)
}

func TestRecoverKeepsARunWhoseRevocationFails(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	crash(begin(t, j, "r", sidA, Grant{Path: p("one"), Access: Write}))
	ed.failOn = p("one")
	if _, err := j.Recover(); err == nil {
		t.Fatal("Recover with a failing Remove = nil error")
	}
	if ids := journalRuns(t, j); !slices.Equal(ids, []string{"r"}) {
		t.Fatalf("journal after a failed revocation holds %v, want [r] kept for a retry", ids)
	}
	ed.failOn = ""
	if n, err := j.Recover(); n != 1 || err != nil {
		t.Fatalf("retry = %d, %v; want 1, nil", n, err)
	}
	wantState(t, ed, nil)
}

func TestSharedSID(t *testing.T) {
	for _, how := range []string{"end", "crash"} {
		t.Run(how, func(t *testing.T) {
			ed := newFake()
			j, _ := openJ(t, ed)
			a := begin(t, j, "a", sidA,
				Grant{Path: p("shared"), Access: Write, Inherit: true},
				Grant{Path: p("same"), Access: Read, Inherit: true},
				Grant{Path: p("own"), Access: Write, Inherit: true})
			b := begin(t, j, "b", sidA,
				Grant{Path: p("shared"), Access: ReadExecute, Inherit: true},
				Grant{Path: p("same"), Access: Read, Inherit: true},
				Grant{Path: p("shared/secret"), Access: DenyAll, Inherit: true})
			if how == "end" {
				if err := a.End(); err != nil {
					t.Fatal(err)
				}
			} else {
				crash(a)
				if n, err := j.Recover(); n != 3 || err != nil {
					t.Fatalf("Recover = %d, %v; want 3, nil", n, err)
				}
			}
			wantState(t, ed, map[string]string{
				p("shared"):        sidA + ":read-execute:true",
				p("same"):          sidA + ":read:true",
				p("shared/secret"): sidA + ":deny-all:true",
			})
			if err := b.End(); err != nil {
				t.Fatal(err)
			}
			wantState(t, ed, nil)
		})
	}
}

// TestLiveRunKeepsItsACE checks that a run's End, or Recover after its crash, never leaves a
// live run of the same SID without its ACE on a path both were granted, not even between
// two edits of the DACL (an agent's open there would fail then).
func TestLiveRunKeepsItsACE(t *testing.T) {
	for _, how := range []string{"end", "crash"} {
		t.Run(how, func(t *testing.T) {
			ed := newFake()
			j, _ := openJ(t, ed)
			a := begin(t, j, "a", sidA, Grant{Path: p("shared"), Access: Write, Inherit: true})
			begin(t, j, "b", sidA, Grant{Path: p("shared"), Access: ReadExecute, Inherit: true})
			live := fakeACE{SID: sidA, Access: ReadExecute, Inherit: true}
			changes := 0
			ed.after = func(acl map[string][]fakeACE) {
				changes++
				if !slices.Contains(acl[p("shared")], live) {
					t.Errorf("b's ACE is missing after change %d: %v", changes, acl[p("shared")])
				}
			}
			if how == "end" {
				if err := a.End(); err != nil {
					t.Fatal(err)
				}
			} else {
				crash(a)
				if _, err := j.Recover(); err != nil {
					t.Fatal(err)
				}
			}
			if changes == 0 {
				t.Fatal("a's ACE was not revoked")
			}
			wantState(t, ed, map[string]string{p("shared"): sidA + ":read-execute:true"})
		})
	}
}

func TestSharedSIDDeadRunNotReapplied(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	a := begin(t, j, "a", sidA, Grant{Path: p("s"), Access: Write})
	crash(begin(t, j, "b", sidA, Grant{Path: p("s"), Access: Read}))
	if err := a.End(); err != nil {
		t.Fatal(err)
	}
	wantState(t, ed, nil) // b is dead: its ACE is not granted again
	if n, err := j.Recover(); n != 1 || err != nil {
		t.Fatalf("Recover = %d, %v; want 1, nil", n, err)
	}
}

func TestTornLastLine(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	crash(begin(t, j, "r", sidA, Grant{Path: p("one"), Access: Write}))
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"grant","run":"r","sid":"` + sidA + `","path":"` + strings.Repeat("x", 400))
	f.Close()

	// A new run appends: the torn tail is cut first, not left as a corrupt middle line.
	live := begin(t, j, "live", sidB, Grant{Path: p("two"), Access: Read})
	if b, _ := os.ReadFile(j.path); !strings.HasSuffix(string(b), "\n") || strings.Contains(string(b), "xxx") {
		t.Errorf("journal after an append still holds the torn line:\n%s", b)
	}
	n, err := j.Recover()
	if err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1, nil (a torn last line is not an error)", n, err)
	}
	wantState(t, ed, map[string]string{p("two"): sidB + ":read:false"})
	live.End()
}

func TestCorruptLineReportedAndKept(t *testing.T) {
	ed := newFake()
	j, dir := openJ(t, ed)
	crash(begin(t, j, "r", sidA, Grant{Path: p("one"), Access: Write}))
	b, _ := os.ReadFile(j.path)
	lines := strings.SplitAfter(string(b), "\n")
	garbage := `{"op":"grant","run":"x","sid":"` + sidB + `","path":"` + strings.ReplaceAll(p("lost"), `\`, `\\`) + `","access":"bogus"}` + "\n"
	os.WriteFile(j.path, []byte(lines[0]+garbage+strings.Join(lines[1:], "")), 0o600)

	n, err := j.Recover()
	if n != 1 {
		t.Errorf("Recover revoked %d, want 1 (what can be read is still recovered)", n)
	}
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), corruptName) {
		t.Fatalf("Recover = %v, want an error naming line 2 and %s", err, corruptName)
	}
	kept, _ := os.ReadFile(filepath.Join(dir, corruptName))
	if string(kept) != garbage {
		t.Errorf("%s = %q, want the corrupt line %q", corruptName, kept, garbage)
	}
	wantState(t, ed, nil)
	if n, err := j.Recover(); n != 0 || err != nil {
		t.Errorf("second Recover = %d, %v; want 0, nil (the line was moved aside)", n, err)
	}
}

func TestBeginRefuses(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	r := begin(t, j, "r", sidA)
	if _, err := j.Begin("r", sidA); err == nil {
		t.Error("Begin of a live run's id succeeded")
	}
	crash(r)
	if _, err := j.Begin("r", sidA); err == nil || !strings.Contains(err.Error(), "unique") {
		t.Errorf("Begin of an id still in the journal = %v, want refused", err)
	}
	for _, id := range []string{"", ".hidden", "a/b", `a\b`, strings.Repeat("x", 129)} {
		if _, err := j.Begin(id, sidA); err == nil {
			t.Errorf("Begin(%q) succeeded", id)
		}
	}
	if _, err := j.Begin("ok", "not-a-sid"); err == nil {
		t.Error("Begin with a malformed SID succeeded")
	}
	r2 := begin(t, j, "r2", sidA)
	if err := r2.Grant(Grant{Path: "relative", Access: Read}); err == nil {
		t.Error("Grant of a relative path succeeded")
	}
	if err := r2.Grant(Grant{Path: p("x"), Access: 0}); err == nil {
		t.Error("Grant of access 0 succeeded")
	}
	r2.End()
}

func TestGrantWhoseApplyFailsIsStillRevoked(t *testing.T) {
	ed := newFake()
	j, _ := openJ(t, ed)
	r := begin(t, j, "r", sidA)
	ed.applyOn = p("bad")
	if err := r.Grant(Grant{Path: p("bad"), Access: Write}); err == nil {
		t.Fatal("Grant with a failing Apply = nil")
	}
	ed.calls = nil
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ed.calls, "set "+sidA+" "+p("bad")+" 0") {
		t.Errorf("End did not remove the journaled grant whose Apply failed: %v", ed.calls)
	}
}

func TestNonWindowsEditor(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the real Editor is tested in editor_windows_test.go")
	}
	err := NewEditor().Apply(sidA, Grant{Path: p("x"), Access: Read})
	if !errors.Is(err, ErrWindowsOnly) {
		t.Errorf("Apply = %v, want ErrWindowsOnly", err)
	}
}
