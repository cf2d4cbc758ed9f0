package integration

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestRunsAtOnce starts many short runs at once, as a user with agents in several terminals
// (or a CI job's matrix) does: each starts and ends well, whatever the others do to the state
// directory they share (a run that ends removes it when it is empty; each cleans up after runs
// killed without warning). Root and unprivileged: their state directories differ.
func TestRunsAtOnce(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		t.Run(map[bool]string{false: "root", true: "user"}[unprivileged], func(t *testing.T) {
			r := newRunner(t, unprivileged)
			const streams, each = 3, 10
			var wg sync.WaitGroup
			failures := make(chan string, streams*each)
			for s := 0; s < streams; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						res := r.run(t, "--profile", r.profile, "--network", "none", "--", "sh", "-c", "echo ran")
						if res.code != 0 || res.stdout != "ran\n" {
							failures <- fmt.Sprintf("stream %d, run %d: %s", s, i, res)
						}
					}
				}()
			}
			wg.Wait()
			close(failures)
			var all []string
			for f := range failures {
				all = append(all, f)
			}
			if len(all) > 0 {
				t.Fatalf("%d of %d runs at once failed; the first:\n%s", len(all), streams*each, strings.Join(all[:1], ""))
			}
		})
	}
}
