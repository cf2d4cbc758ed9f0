package integration

import (
	"fmt"
	"os/exec"
	"testing"
)

// Outliving the sandbox: whatever the agent starts ends with the run, even when the agent kills
// what supervises it.
func init() {
	// left is an after check: no process with this command line survived the run.
	left := func(args string) func(*testing.T, *runner, result) error {
		return func(t *testing.T, r *runner, res result) error {
			if processRunning(args) {
				_ = exec.Command("pkill", "-KILL", "-f", "-x", args).Run()
				return fmt.Errorf("%q outlived the run: %s", args, res)
			}
			return nil
		}
	}
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "lifecycle", name: "kill the stage, leave a daemon",
			attack:  "setsid sleep 61.71 </dev/null >/dev/null 2>&1 & sleep 0.2; kill -KILL $PPID; sleep 0.5; exit 1",
			after:   left("sleep 61.71"),
			held:    func(*runner, result) error { return nil },
			control: "sleep 61.72 & echo started", controlWant: "started",
		},
		escapeAttempt{
			class: "lifecycle", name: "double fork and exit",
			attack:  "(setsid sh -c 'sleep 61.73' </dev/null >/dev/null 2>&1 &); exit 1",
			after:   left("sleep 61.73"),
			control: "sleep 0.1 && echo done", controlWant: "done",
		},
		escapeAttempt{
			class: "lifecycle", name: "kill agentrun itself", where: asDegraded,
			// The stage's parent is agentrun (in the full tier it is outside the PID namespace
			// and has no number here).
			attack:  "setsid sleep 61.74 </dev/null >/dev/null 2>&1 & a=$(cut -d' ' -f4 /proc/$PPID/stat); kill -KILL $a && echo killed-agentrun; sleep 0.5; exit 1",
			want:    "Operation not permitted",
			after:   left("sleep 61.74"),
			control: "kill -0 $PPID && echo stage-alive", controlWant: "stage-alive",
		},
	)
}
