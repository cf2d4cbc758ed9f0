// Package netfiltertest builds network policies from profile text, for the tests of the
// egress packages.
package netfiltertest

import (
	"testing"
	"testing/fstest"

	"github.com/agentrun/agentrun/profiles"
)

// Network resolves a profile named "p" written in yaml (as builtin/p.yaml) and returns its
// network rules.
func Network(t testing.TB, yaml string) profiles.NetworkPolicy {
	t.Helper()
	cat, err := profiles.Load(fstest.MapFS{"p.yaml": {Data: []byte(yaml)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := cat.Lookup("p")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := cat.Resolve(e, profiles.Env{Home: "/h", Workspace: "/h/w", TmpDir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	return pol.Network
}
