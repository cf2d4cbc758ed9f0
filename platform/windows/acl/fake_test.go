package acl

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
)

// fakeACE is one explicit ACE in the fake's state.
type fakeACE struct {
	SID     string
	Access  Access
	Inherit bool
}

// fakeEditor keeps explicit ACEs in memory, per path, in canonical order (deny first), the
// way the Windows Editor edits a DACL. With file set, the state lives in that file, so that a
// child process and the test see the same ACLs.
type fakeEditor struct {
	mu      sync.Mutex
	file    string
	acl     map[string][]fakeACE
	calls   []string // "apply SID PATH ACCESS" / "set SID PATH N" (N: the grants kept)
	failOn  string   // a path whose Set fails
	applyOn string   // a path whose Apply fails
	// after, when set, is called with the state after each change, under the fake's lock.
	after func(acl map[string][]fakeACE)
}

func newFake() *fakeEditor { return &fakeEditor{acl: map[string][]fakeACE{}} }

func (f *fakeEditor) load() {
	if f.file == "" {
		return
	}
	f.acl = map[string][]fakeACE{}
	if b, err := os.ReadFile(f.file); err == nil {
		json.Unmarshal(b, &f.acl)
	}
}

func (f *fakeEditor) save() {
	if f.file == "" {
		return
	}
	b, _ := json.Marshal(f.acl)
	os.WriteFile(f.file, b, 0o600)
}

func (f *fakeEditor) Apply(sid string, g Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.load()
	f.calls = append(f.calls, fmt.Sprintf("apply %s %s %s", sid, g.Path, g.Access))
	if g.Path == f.applyOn {
		return errors.New("fake apply failure")
	}
	a := fakeACE{SID: sid, Access: g.Access, Inherit: g.Inherit}
	aces := f.acl[g.Path]
	if slices.Contains(aces, a) {
		return nil
	}
	at := 0
	if !a.Access.Deny() {
		at = len(aces)
	}
	f.acl[g.Path] = slices.Insert(aces, at, a)
	f.changed()
	return nil
}

// changed saves the state and shows it to after.
func (f *fakeEditor) changed() {
	f.save()
	if f.after != nil {
		f.after(f.acl)
	}
}

func (f *fakeEditor) Set(sid, path string, keep []Grant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.load()
	f.calls = append(f.calls, fmt.Sprintf("set %s %s %d", sid, path, len(keep)))
	if path == f.failOn {
		return errors.New("fake set failure")
	}
	aces := slices.DeleteFunc(f.acl[path], func(a fakeACE) bool { return a.SID == sid })
	for _, g := range keep {
		a := fakeACE{SID: sid, Access: g.Access, Inherit: g.Inherit}
		if slices.Contains(aces, a) {
			continue
		}
		at := 0
		if !a.Access.Deny() {
			at = len(aces)
		}
		aces = slices.Insert(aces, at, a)
	}
	f.acl[path] = aces
	if len(aces) == 0 {
		delete(f.acl, path)
	}
	f.changed()
	return nil
}

func (f *fakeEditor) state() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.load()
	out := map[string]string{}
	for p, aces := range f.acl {
		var s []string
		for _, a := range aces {
			s = append(s, fmt.Sprintf("%s:%s:%v", a.SID, a.Access, a.Inherit))
		}
		out[p] = strings.Join(s, ",")
	}
	return out
}
