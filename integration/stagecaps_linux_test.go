package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const netProfile = `name: net
extends: [base]
network:
  allow: [example.com:443]
`

// TestStageDropsCapabilities checks, in a run with filtered egress (the one in which the
// stage holds CAP_NET_ADMIN to create the TUN device), that no thread of the stage holds a
// capability or lacks no_new_privs while the agent runs, and that the thread that started the
// agent has an empty bounding set.
func TestStageDropsCapabilities(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		r := newRunner(t, unprivileged)
		t.Run(r.name, func(t *testing.T) {
			if unprivileged {
				usableTUN(t)
			}
			p := filepath.Join(r.home, "net.yaml")
			if err := os.WriteFile(p, []byte(netProfile), 0o644); err != nil {
				t.Fatal(err)
			}
			// Capabilities and no_new_privs are each thread's own: every thread of the stage
			// is read, each block starting with "task". In enforce mode the Landlock library
			// sets no_new_privs on every thread too; audit mode applies no Landlock.
			for _, mode := range []string{"enforce", "audit"} {
				res := r.run(t, "--mode", mode, "--profile", p, "--", "sh", "-c",
					"for d in /proc/1/task/*; do echo task; grep -E '^(Cap(Inh|Prm|Eff|Amb)|NoNewPrivs)' $d/status; done; grep -E '^CapBnd' /proc/1/status; grep -c tun0 /proc/net/dev")
				if res.code != 0 {
					t.Fatalf("%s mode: the run failed: %s", mode, res)
				}
				if !strings.Contains(res.stdout, "\n1\n") {
					t.Fatalf("%s mode: the run has no TUN device, so it does not show the stage with network: %s", mode, res)
				}
				tasks := strings.Split(res.stdout, "task\n")[1:]
				if len(tasks) < 2 {
					t.Fatalf("%s mode: the stage shows %d threads, not the several a Go program has: %s", mode, len(tasks), res)
				}
				for i, task := range tasks {
					for _, set := range []string{"Inh", "Prm", "Eff", "Amb"} {
						if !regexp.MustCompile(`(?m)^Cap` + set + `:\s+0+$`).MatchString(task) {
							t.Errorf("%s mode, thread %d of the stage: Cap%s is not empty: %s", mode, i, set, task)
						}
					}
					if !regexp.MustCompile(`(?m)^NoNewPrivs:\s+1$`).MatchString(task) {
						t.Errorf("%s mode, thread %d of the stage: no_new_privs is not set: %s", mode, i, task)
					}
				}
				// CAP_SETPCAP is bit 8, CAP_NET_ADMIN bit 12: neither is in the bounding set.
				if m := regexp.MustCompile(`(?m)^CapBnd:\s+([0-9a-f]+)$`).FindStringSubmatch(res.stdout); m == nil || m[1] != "0000000000000000" {
					t.Errorf("%s mode: the stage's bounding set is not empty: %s", mode, res.stdout)
				}
			}
		})
	}
}
