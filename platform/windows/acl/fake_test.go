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
	calls   []string // "apply SID PATH ACCESS" / "remove SID PATH"
	failOn  string   // a path whose Remove fails
	applyOn string   // a path whose Apply fails
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
	f.save()
	return nil
}

func (f *fakeEditor) Remove(sid, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.load()
	f.calls = append(f.calls, fmt.Sprintf("remove %s %s", sid, path))
	if path == f.failOn {
		return errors.New("fake remove failure")
	}
	f.acl[path] = slices.DeleteFunc(f.acl[path], func(a fakeACE) bool { return a.SID == sid })
	if len(f.acl[path]) == 0 {
		delete(f.acl, path)
	}
	f.save()
	return nil
}

// state is the ACEs as one sorted string per path, for comparisons.
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
