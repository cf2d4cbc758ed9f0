package apparmorvm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testProfile lets a confined program read one file and its own label, nothing else.
const testProfile = `# agentrun's AppArmor VM test: read one file, nothing else.
profile agentrun-vm-test {
  /srv/aa/allowed r,
  /proc/*/attr/{,apparmor/}current r,
}
`

// testScript loads the profile in enforce mode, then in complain mode, and each time reads
// an allowed and a denied file under it. confined does what aa-exec does: it asks the
// kernel to put the next program the shell executes under the profile. The programs are
// named by path so that busybox's shell execs them instead of running its applet in
// process (no exec, no change of profile).
const testScript = `
confined() {
	(
		attr=/proc/self/attr/apparmor/exec
		[ -e $attr ] || attr=/proc/self/attr/exec
		printf 'exec %s' "$1" > $attr || exit 125
		shift
		exec "$@"
	) 2>&1
}
mkdir -p /srv/aa
echo allowed-content > /srv/aa/allowed
echo secret-content > /srv/aa/secret
echo "enabled: $(cat /sys/module/apparmor/parameters/enabled)"
echo "lsm: $(cat /sys/kernel/security/lsm)"
apparmor_parser --replace --skip-cache /etc/apparmor.d/agentrun-vm-test 2>&1 && echo "enforce loaded"
echo "enforce label: $(confined agentrun-vm-test /bin/cat /proc/self/attr/current)"
echo "enforce allowed: $(confined agentrun-vm-test /bin/cat /srv/aa/allowed)"
echo "enforce denied: $(confined agentrun-vm-test /bin/cat /srv/aa/secret)"
apparmor_parser --replace --skip-cache --complain /etc/apparmor.d/agentrun-vm-test 2>&1 && echo "complain loaded"
echo "complain label: $(confined agentrun-vm-test /bin/cat /proc/self/attr/current)"
echo "complain denied: $(confined agentrun-vm-test /bin/cat /srv/aa/secret)"
`

// TestAppArmorEnforceAndComplain boots Debian's kernel with AppArmor, loads a profile with
// apparmor_parser and checks that the kernel enforces it: the allowed file reads, the other
// is denied with a DENIED audit record; in complain mode the same read succeeds and is
// logged as ALLOWED.
func TestAppArmorEnforceAndComplain(t *testing.T) {
	vm := Assets(t)
	profile := filepath.Join(t.TempDir(), "agentrun-vm-test")
	if err := os.WriteFile(profile, []byte(testProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	vm.Files["/etc/apparmor.d/agentrun-vm-test"] = profile
	console, code := vm.Run(t, testScript, 5*time.Minute)
	if code != 0 {
		t.Fatalf("the test script exited %d; console:\n%s", code, console)
	}
	line := func(prefix string) string {
		for l := range strings.Lines(console) {
			if v, ok := strings.CutPrefix(l, prefix+": "); ok {
				return strings.TrimSpace(v)
			}
		}
		return "(missing)"
	}
	for _, tc := range []struct {
		name, line, want string
	}{
		{"AppArmor is enabled", "enabled", "Y"},
		{"the program runs under the profile", "enforce label", "agentrun-vm-test (enforce)"},
		{"enforce mode allows the allowed file", "enforce allowed", "allowed-content"},
		{"enforce mode denies the other file", "enforce denied", "cat: can't open '/srv/aa/secret': Permission denied"},
		{"complain mode puts the program under the profile", "complain label", "agentrun-vm-test (complain)"},
		{"complain mode lets the read through", "complain denied", "secret-content"},
	} {
		if got := line(tc.line); got != tc.want {
			t.Errorf("%s: %s: got %q, want %q", tc.name, tc.line, got, tc.want)
		}
	}
	for _, verdict := range []string{"DENIED", "ALLOWED"} {
		found := false
		for _, r := range AuditRecords(console) {
			if r["apparmor"] == verdict && r["operation"] == "open" && r["profile"] == "agentrun-vm-test" &&
				r["name"] == "/srv/aa/secret" && r["denied_mask"] == "r" {
				found = true
			}
		}
		if !found {
			t.Errorf("the kernel log has no %s record for reading /srv/aa/secret", verdict)
		}
	}
	for l := range strings.Lines(console) {
		if strings.Contains(l, `name="/srv/aa/secret"`) {
			t.Logf("kernel log: %s", strings.TrimSpace(l))
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}
