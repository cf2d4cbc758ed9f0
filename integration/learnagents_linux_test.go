package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLearnRoundTripAgents is the learn round trip (learnRoundTrip) with the agents at work:
// Claude Code, Codex and Gemini CLI in a fresh home, each doing the task of the session test
// (its legitimate steps: edit, test, commit) with the fake model API, under a profile of the
// user's that extends only base and passes the agent's key and CA variables (learn proposes
// files, programs and hosts, not variables) — so that learn has the agent's whole start-up
// and work to learn: its state directory (beside other profiles' secrets inside it, which the
// rules it proposes keep denied), its program, its API host.
func TestLearnRoundTripAgents(t *testing.T) {
	for _, a := range sessionAgents {
		t.Run(a.name, func(t *testing.T) {
			bin, f, ca := sessionSetup(t, a)
			// The task's steps; each run commits, the later ones with nothing new.
			script := sessionScript(func(s sessionStep) (string, bool) {
				return strings.Replace(s.command, "commit -qm", "commit -q --allow-empty -m", 1), !s.attack
			})
			env := append(a.env(ca), "PATH="+filepath.Dir(bin)+":/usr/local/bin:/usr/bin:/bin")
			var pass []string
			for _, kv := range a.env(ca) {
				name, _, _ := strings.Cut(kv, "=")
				pass = append(pass, name)
			}
			body := "extends: [base]\nenv:\n  pass: [" + strings.Join(pass, ", ") + "]\n"
			asRootAndUser(t, func(t *testing.T, r *runner) {
				if r.unprivate {
					usableTUN(t)
				}
				r.netns, r.resolv = f.client, f.resolv
				r.env = env
				learnRoundTrip(t, r, a.name, body, true, true, func(t *testing.T, mode string, args []string) {
					f.setScript(t, script)
					res := r.run(t, append(append(args, "--"), a.args("Do the task.")...)...)
					results := f.modelResults(t)
					if res.code != 0 || !strings.Contains(res.stdout, sessionFinal) || len(results) != len(script.Commands) {
						t.Fatalf("%s mode: the session did not do the task: %s\ntool results: %+v", mode, res, results)
					}
					for i, got := range results {
						if got.IsError {
							t.Errorf("%s mode: step %d (%s) failed: %q", mode, i, got.Command, got.Output)
						}
					}
				})
			})
		})
	}
}
