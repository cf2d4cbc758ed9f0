package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNestedRun: agentrun started inside an agentrun sandbox refuses at once and says why
// (it used to fail on whatever came first, with a message about that: a directory of its
// own it could not make), and its doctor says so; outside, the doctor says nothing of it.
func TestNestedRun(t *testing.T) {
	asRootAndUser(t, func(t *testing.T, r *runner) {
		// The binary in the workspace: the sandbox's /tmp, where the tests built it, is its own.
		bin := filepath.Join(r.ws, "agentrun-copy")
		data, err := os.ReadFile(agentrunBin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		const why = "this is an agentrun sandbox already"
		res := r.sh(t, bin+" --profile base --network none -- true; echo inner-exit=$?")
		if !strings.Contains(res.stdout, "inner-exit=125") || !strings.Contains(res.stderr, why) || !strings.Contains(res.stderr, "run the command without agentrun") {
			t.Errorf("want the nested run refused (125) saying why; got %s\nstdout %q\nstderr %q", res, res.stdout, res.stderr)
		}
		res = r.sh(t, bin+" doctor")
		if res.code != 0 || !strings.Contains(res.stdout, "no run here: "+why) {
			t.Errorf("want the nested doctor to say no run is possible here; got %s", res)
		}
		res = r.run(t, "doctor")
		if res.code != 0 || strings.Contains(res.stdout, why) {
			t.Errorf("the host's doctor says it is a sandbox; got %s", res)
		}
	})
}
