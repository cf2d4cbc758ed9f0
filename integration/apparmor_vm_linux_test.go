package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/integration/apparmorvm"
)

// vmProfile is the agent's profile in the VM. It lets the agent read /etc and write
// /etc/cron.d and /srv/aa/out: the mounts and Landlock allow all of that, so what is denied
// below is denied by AppArmor alone — the explicit denials every generated AppArmor profile
// carries (the seed article's /etc/shadow and cron directories).
const vmProfile = `name: vm
filesystem:
  read: [/bin, /sbin, /lib, /lib64, /usr, /etc, /srv/aa]
  write: [/srv/aa/out, /etc/cron.d]
exec:
  allow: [/bin/**, /usr/**]
`

// vmScript runs the same agent under agentrun in enforce mode and in audit mode, then shows
// what agentrun recorded.
const vmScript = `
export HOME=/root PATH=/usr/local/bin:/bin:/sbin:/usr/bin
mkdir -p /root /srv/aa/out /etc/cron.d
echo allowed-content > /srv/aa/allowed
echo 'root:$6$hash:19000::::::' > /etc/shadow
agent='/bin/cat /srv/aa/allowed; /bin/cat /etc/shadow; echo job > /etc/cron.d/evil && echo cron-written; echo out > /srv/aa/out/file && echo out-written'
echo "== enforce"
agentrun --profile /srv/vm.yaml -w /srv/aa -- /bin/sh -c "$agent" 2>&1
echo "enforce exit: $?"
agentrun --profile /srv/vm.yaml -w /srv/aa -- /bin/echo kept-in-a-file > /root/out.log 2>/dev/null
echo "redirected: $(cat /root/out.log)"
rm -f /etc/cron.d/evil /srv/aa/out/file
echo "== audit"
agentrun --mode audit --allow-degraded --profile /srv/vm.yaml -w /srv/aa -- /bin/sh -c "$agent" 2>&1
echo "audit exit: $?"
echo "== log"
agentrun log --verdict denied,would-deny 2>&1
echo "== loaded after the runs: $(grep -c '^agentrun' /sys/kernel/security/apparmor/profiles)"
`

// TestAppArmorEnforcedInVM boots Debian's kernel (AppArmor built in) under qemu and runs
// agentrun there as root: it compiles the policy, loads the profile, attaches it to the
// sandbox and records the kernel's denials. In enforce mode AppArmor denies reading
// /etc/shadow and writing /etc/cron.d, which the mounts and Landlock allow; the allowed read
// and write succeed. In audit mode the profile is in complain mode: both succeed and the
// kernel's ALLOWED records become would-deny events. Profiles are unloaded after the runs.
func TestAppArmorEnforcedInVM(t *testing.T) {
	requireRoot(t)
	vm := apparmorvm.Assets(t)
	vm.AddProgram(t, "/usr/local/bin/agentrun", agentrunBin)
	vm.AddProgram(t, "/usr/local/bin/agentrun-stage", stageBin())
	for _, d := range []string{"abi", "tunables", "abstractions"} {
		vm.Files["/etc/apparmor.d/"+d] = "/etc/apparmor.d/" + d
	}
	profile := filepath.Join(t.TempDir(), "vm.yaml")
	if err := os.WriteFile(profile, []byte(vmProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	vm.Files["/srv/vm.yaml"] = profile
	console, code := vm.Run(t, vmScript, 2*time.Minute)
	if code != 0 {
		t.Fatalf("the VM script exited %d; console:\n%s", code, console)
	}
	section := func(name string) string {
		_, after, _ := strings.Cut(console, "== "+name+"\n")
		before, _, _ := strings.Cut(after, "\n== ")
		return before
	}
	enforce, audit, log := section("enforce"), section("audit"), section("log")
	for _, want := range []string{"allowed-content", "out-written", "can't open '/etc/shadow': Permission denied", "can't create /etc/cron.d/evil: Permission denied"} {
		if !strings.Contains(enforce, want) {
			t.Errorf("enforce mode: %q missing", want)
		}
	}
	if !strings.Contains(enforce, "redirected: kept-in-a-file") {
		t.Error("output redirected to a file the policy cannot write was lost")
	}
	for _, absent := range []string{"$6$hash", "cron-written"} {
		if strings.Contains(enforce, absent) {
			t.Errorf("enforce mode: %q got through AppArmor", absent)
		}
	}
	for _, want := range []string{"allowed-content", "$6$hash", "cron-written", "out-written"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit mode: %q missing (complain mode must let it through)", want)
		}
	}
	records := map[string]bool{}
	for _, r := range apparmorvm.AuditRecords(console) {
		if strings.HasPrefix(r["profile"], "agentrun-vm-") {
			records[r["apparmor"]+" "+r["name"]] = true
		}
	}
	for _, want := range []string{"DENIED /etc/shadow", "DENIED /etc/cron.d/evil", "ALLOWED /etc/shadow", "ALLOWED /etc/cron.d/evil"} {
		if !records[want] {
			t.Errorf("the kernel logged no %s record", want)
		}
	}
	for _, want := range []string{"denied      file read /etc/shadow", "would-deny  file read /etc/shadow", "rule     apparmor profile agentrun-vm-"} {
		if !strings.Contains(log, want) {
			t.Errorf("agentrun log: %q missing", want)
		}
	}
	if !strings.Contains(console, "== loaded after the runs: 0") {
		t.Error("agentrun left its profiles loaded")
	}
	var kernel strings.Builder
	for l := range strings.Lines(console) {
		if strings.Contains(l, `apparmor="DENIED"`) || strings.Contains(l, `apparmor="ALLOWED"`) {
			t.Logf("kernel: %s", strings.TrimSpace(l))
			fmt.Fprintf(&kernel, "kernel: %s\n", strings.TrimSpace(l))
		}
	}
	// scripts/test.sh prints them: go test shows nothing of a passing test.
	if path := os.Getenv("AGENTRUN_APPARMOR_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(kernel.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}
