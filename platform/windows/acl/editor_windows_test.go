//go:build windows

package acl

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/windows/wintest"

	"golang.org/x/sys/windows"
)

// dacl reads path's DACL as ACEs.
func dacl(t *testing.T, path string) []ace {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sd.DACL()
	if err != nil || d == nil {
		t.Fatalf("DACL of %s: %v", path, err)
	}
	_, aces, err := parseACL(aclBytes(d))
	if err != nil {
		t.Fatal(err)
	}
	return aces
}

// acesOf is the ACEs of sid on path, explicit or inherited.
func acesOf(t *testing.T, path, sid string) (explicit, inherited []ace) {
	t.Helper()
	b := mustSID(t, sid)
	for _, a := range dacl(t, path) {
		if !bytes.Equal(a.SID, b) {
			continue
		}
		if a.Flags&aceInherited != 0 {
			inherited = append(inherited, a)
		} else {
			explicit = append(explicit, a)
		}
	}
	return explicit, inherited
}

func TestEditorOnNTFS(t *testing.T) {
	wintest.RequireWindows(t)
	sid := containerSID(t, "agentrun.acl-test")
	dir := wintest.TempDir(t)
	ed := NewEditor()

	if err := ed.Apply(sid, Grant{Path: dir, Access: Write, Inherit: true}); err != nil {
		t.Fatal(err)
	}
	if err := ed.Apply(sid, Grant{Path: dir, Access: Write, Inherit: true}); err != nil {
		t.Fatal(err)
	}
	ex, _ := acesOf(t, dir, sid)
	if len(ex) != 1 || ex[0].Type != aceAllowed || ex[0].Mask != Write.Mask() || ex[0].Flags != aceObjectInherit|aceContainerInher {
		t.Fatalf("explicit ACEs of the SID on %s after Apply twice = %+v, want one inheritable allow of %#x", dir, ex, Write.Mask())
	}
	if ex[0].Mask&fileDeleteChild != 0 {
		t.Fatal("the Write ACE carries FILE_DELETE_CHILD")
	}
	// Set replaces the SID's explicit ACEs with those kept, in one write.
	keep := []Grant{{Path: dir, Access: ReadExecute, Inherit: true}, {Path: dir, Access: Write, Inherit: true}}
	if err := ed.Set(sid, dir, keep); err != nil {
		t.Fatal(err)
	}
	if ex, _ := acesOf(t, dir, sid); len(ex) != 2 {
		t.Fatalf("explicit ACEs of the SID on %s after Set of two grants = %+v", dir, ex)
	}
	if err := ed.Set(sid, dir, keep[1:]); err != nil {
		t.Fatal(err)
	}
	if ex, _ := acesOf(t, dir, sid); len(ex) != 1 || ex[0].Mask != Write.Mask() {
		t.Fatalf("explicit ACEs of the SID on %s after Set of the Write grant = %+v", dir, ex)
	}

	child := filepath.Join(dir, "new.txt")
	if err := os.WriteFile(child, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, in := acesOf(t, child, sid); len(in) != 1 || in[0].Mask != Write.Mask() {
		t.Errorf("a new file under the grant inherits %+v, want the Write ACE", in)
	}

	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	ctl := func() windows.SECURITY_DESCRIPTOR_CONTROL {
		sd, err := windows.GetNamedSecurityInfo(sub, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatal(err)
		}
		c, _, _ := sd.Control()
		return c & (windows.SE_DACL_PROTECTED | windows.SE_DACL_AUTO_INHERITED)
	}
	subControl := ctl()
	if err := ed.Apply(sid, Grant{Path: sub, Access: DenyDelete}); err != nil {
		t.Fatal(err)
	}
	aces := dacl(t, sub)
	if len(aces) == 0 || aces[0].Type != aceDenied || !bytes.Equal(aces[0].SID, mustSID(t, sid)) || aces[0].Mask != DenyDelete.Mask() {
		t.Errorf("DACL of %s after DenyDelete starts with %+v, want the deny ACE first", sub, aces)
	}
	if ex, in := acesOf(t, sub, sid); len(ex) != 1 || len(in) != 1 {
		t.Errorf("%s holds %d explicit and %d inherited ACEs of the SID, want 1 and 1", sub, len(ex), len(in))
	}

	if err := ed.Set(sid, sub, nil); err != nil {
		t.Fatal(err)
	}
	if c := ctl(); c != subControl {
		t.Errorf("%s's DACL control went from %#x to %#x through a non-inheritable Apply and Remove", sub, subControl, c)
	}
	if _, in := acesOf(t, sub, sid); len(in) != 1 {
		t.Errorf("%s lost the ACE it inherits from %s: %d inherited ACEs of the SID", sub, dir, len(in))
	}
	if err := ed.Set(sid, dir, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, sub, child} {
		if ex, in := acesOf(t, p, sid); len(ex)+len(in) != 0 {
			t.Errorf("%s still holds ACEs of the SID after Remove: %d explicit, %d inherited", p, len(ex), len(in))
		}
	}
	if err := ed.Set(sid, dir, nil); err != nil {
		t.Errorf("Remove with nothing to remove = %v", err)
	}
	if err := ed.Set(sid, filepath.Join(dir, "missing"), nil); err != nil {
		t.Errorf("Remove of a missing path = %v", err)
	}
	if err := ed.Apply(sid, Grant{Path: filepath.Join(dir, "missing"), Access: Read}); err == nil {
		t.Error("Apply on a missing path succeeded")
	}
}

func TestEditorRefusesJunction(t *testing.T) {
	wintest.RequireWindows(t)
	sid := containerSID(t, "agentrun.acl-test")
	dir := wintest.TempDir(t)
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cmd", "/c", "mklink", "/J", link, target).CombinedOutput(); err != nil {
		t.Fatalf("mklink /J: %v: %s", err, out)
	}
	ed := NewEditor()
	for name, err := range map[string]error{
		"Apply": ed.Apply(sid, Grant{Path: link, Access: Write, Inherit: true}),
		"Set":   ed.Set(sid, link, nil),
	} {
		if err == nil || !strings.Contains(err.Error(), "junction") {
			t.Errorf("%s on a junction = %v, want refused naming the junction", name, err)
		}
	}
	if ex, in := acesOf(t, target, sid); len(ex)+len(in) != 0 {
		t.Errorf("the junction's target got ACEs of the SID: %+v %+v", ex, in)
	}
}

// TestJournalOnNTFS runs a grant through the journal with the real Editor, crashes the run
// and lets Recover take the ACE away.
func TestJournalOnNTFS(t *testing.T) {
	wintest.RequireWindows(t)
	sid := containerSID(t, "agentrun.acl-test")
	ws := wintest.TempDir(t)
	j, err := Open(wintest.TempDir(t), NewEditor())
	if err != nil {
		t.Fatal(err)
	}
	r := begin(t, j, "ntfs", sid, Grant{Path: ws, Access: WriteExecute, Inherit: true})
	if ex, _ := acesOf(t, ws, sid); len(ex) != 1 {
		t.Fatalf("after Grant: %d explicit ACEs of the SID, want 1", len(ex))
	}
	crash(r)
	if n, err := j.Recover(); n != 1 || err != nil {
		t.Fatalf("Recover = %d, %v; want 1, nil", n, err)
	}
	if ex, _ := acesOf(t, ws, sid); len(ex) != 0 {
		t.Errorf("after Recover: %d explicit ACEs of the SID, want 0", len(ex))
	}
}
