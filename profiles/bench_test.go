package profiles_test

import (
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

// BenchmarkLoadAndResolve is what every launch pays before the sandbox starts: parsing the
// built-in profiles and resolving one with symlinks resolved on this machine.
func BenchmarkLoadAndResolve(b *testing.B) {
	for b.Loop() {
		env := testEnv
		env.Canonical = profiles.NewCanonicalizer()
		cat, err := profiles.Load(builtin.FS, "")
		if err != nil {
			b.Fatal(err)
		}
		e, _ := cat.Lookup("claude")
		if _, err := cat.Resolve(e, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := profiles.Load(builtin.FS, ""); err != nil {
			b.Fatal(err)
		}
	}
}
