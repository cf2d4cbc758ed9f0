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
// stage holds CAP_NET_ADMIN to create the TUN device), that the stage holds no capability
// while the agent runs, and is not dumpable.
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
			res := r.run(t, "--profile", p, "--", "sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/1/status; grep -c tun0 /proc/net/dev")
			if res.code != 0 {
				t.Fatalf("the run failed: %s", res)
			}
			if !strings.Contains(res.stdout, "\n1\n") {
				t.Fatalf("the run has no TUN device, so it does not show the stage with network: %s", res)
			}
			for _, set := range []string{"Inh", "Prm", "Eff", "Amb"} {
				if !regexp.MustCompile(`(?m)^Cap` + set + `:\s+0+$`).MatchString(res.stdout) {
					t.Errorf("the stage's Cap%s is not empty: %s", set, res.stdout)
				}
			}
			// CAP_SETPCAP is bit 8, CAP_NET_ADMIN bit 12: neither is in the bounding set.
			if m := regexp.MustCompile(`(?m)^CapBnd:\s+([0-9a-f]+)$`).FindStringSubmatch(res.stdout); m == nil || m[1] != "0000000000000000" {
				t.Errorf("the stage's bounding set is not empty: %s", res.stdout)
			}
		})
	}
}
