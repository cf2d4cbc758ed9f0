package profilestest

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

// Builtins resolves every built-in profile (fragments included) for env, by name.
func Builtins(t testing.TB, env profiles.Env) map[string]*profiles.Policy {
	t.Helper()
	cat, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(builtin.FS, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no built-in profiles (%v)", err)
	}
	out := map[string]*profiles.Policy{}
	for _, f := range files {
		name := strings.TrimSuffix(f, ".yaml")
		e, err := cat.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if out[name], err = cat.Resolve(e, env); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return out
}
