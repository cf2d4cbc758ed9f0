package seccompfilter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// rulesSum is the SHA-256 of s's rules (Build(s) as JSON): what the table's program of s was
// compiled from.
func rulesSum(t testing.TB, s Spec) string {
	b, err := json.Marshal(Build(s))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestProgramsMatchRules checks, without libseccomp, that each program of the table was
// compiled from today's rules: a change of Denials, the socket gate or the reported calls
// without `go test -tags seccomp ./platform/linux/seccompfilter -run TestPrograms -update`
// fails here, and scripts/build.sh runs this test before it builds agentrun on amd64.
func TestProgramsMatchRules(t *testing.T) {
	for _, s := range Specs() {
		noInet := 0
		if s.NoInet {
			noInet = 1
		}
		if got, want := programs[noInet][s.Report].rules, rulesSum(t, s); got != want {
			t.Errorf("%+v: the built-in program was compiled from other rules than today's: run go test -tags seccomp ./platform/linux/seccompfilter -run TestPrograms -update (libseccomp %s compiled the table)", s, programsLibseccomp)
		}
	}
}
