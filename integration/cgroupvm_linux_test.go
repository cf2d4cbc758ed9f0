package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/integration/apparmorvm"
)

// cgroupVMScript delegates a cgroup v2 subtree to an unprivileged user the way systemd does
// for a unit with Delegate=yes (the directory and its cgroup.procs, cgroup.subtree_control and
// cgroup.threads given to the user), starts agentrun as that user alone in it, and runs a fork
// bomb under a stated pids limit, then a run under the default limits.
const cgroupVMScript = `
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin
mkdir -p /home/u /srv/aa && chown -R 1000:1000 /home/u
echo "+pids +memory" > /sys/fs/cgroup/cgroup.subtree_control
n=0
# run starts agentrun as u, alone in a fresh delegated cgroup, as systemd starts a scope.
run() {
	n=$((n+1)); d=/sys/fs/cgroup/deleg$n
	mkdir $d && chown 1000:1000 $d $d/cgroup.procs $d/cgroup.subtree_control $d/cgroup.threads
	sh -c 'echo $$ > "$0/cgroup.procs" && cd /srv/aa && exec /usr/local/bin/setpriv --reuid 1000 --regid 1000 --clear-groups env HOME=/home/u agentrun "$@"' $d "$@"
}
echo "== control"
(cd /srv/aa && /usr/local/bin/setpriv --reuid 1000 --regid 1000 --clear-groups env HOME=/home/u agentrun -w /srv/aa --profile /srv/vm.yaml --network none -- /bin/sh -c 'echo control-ran' 2>&1)
echo "== stated"
run -w /srv/aa --profile /srv/limits.yaml --network none -- /bin/sh -c 'for i in $(seq 100); do sleep 5 & done; echo survived' 2>&1
echo "stated exit: $?"
echo "== defaults"
run -w /srv/aa --profile /srv/vm.yaml --network none -- /bin/sh -c 'echo ran' 2>&1
echo "defaults exit: $?"
echo "== left"
find /sys/fs/cgroup/deleg1 /sys/fs/cgroup/deleg2 -mindepth 1 -type d
echo "== end"
`

// TestDelegatedCgroupLimitsInVM proves rootless limits through a delegated cgroup v2 subtree,
// which this host's cgroup v1 hierarchy cannot show: in the VM (Debian's kernel, cgroup v2)
// an unprivileged user's fork bomb stops at the stated pids limit, and a run under a
// profile that states none gets the default limits without the "not applied" line.
func TestDelegatedCgroupLimitsInVM(t *testing.T) {
	requireRoot(t)
	vm := apparmorvm.Assets(t)
	vm.AddProgram(t, "/usr/local/bin/agentrun", agentrunBin)
	vm.AddProgram(t, "/usr/local/bin/agentrun-stage", stageBin())
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("the delegated cgroup VM test needs setpriv (util-linux) to start agentrun as a user")
	}
	vm.AddProgram(t, "/usr/local/bin/setpriv", setpriv) // before busybox's applet on PATH
	dir := t.TempDir()
	for name, text := range map[string]string{"vm.yaml": vmProfile, "limits.yaml": vmProfile + "resources: {pids: 32}\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Replace(text, "name: vm", "name: "+strings.TrimSuffix(name, ".yaml"), 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		vm.Files["/srv/"+name] = p
	}
	console, code := vm.Run(t, cgroupVMScript, 2*time.Minute)
	if code != 0 {
		t.Fatalf("the VM script exited %d; console:\n%s", code, console)
	}
	section := func(name string) string {
		_, after, _ := strings.Cut(console, "== "+name+"\n")
		before, _, _ := strings.Cut("\n"+after, "\n== ")
		return before
	}
	stated, defaults, left := section("stated"), section("defaults"), section("left")
	if control := section("control"); !strings.Contains(control, "control-ran") {
		t.Skipf("rootless agentrun does not run in the VM without delegation either, so the delegated cgroup cannot be shown:\n%s", control)
	}
	if strings.Contains(stated, "survived") || !strings.Contains(stated, "fork") {
		t.Errorf("the fork bomb under pids 32 was not bounded:\n%s", stated)
	}
	if !strings.Contains(defaults, "ran") || !strings.Contains(defaults, "defaults exit: 0") || strings.Contains(defaults, "not applied") {
		t.Errorf("the run under the default limits:\n%s", defaults)
	}
	if strings.Contains(strings.ReplaceAll(left, "agentrun-launcher", ""), "agentrun-") {
		t.Errorf("container cgroups left behind:\n%s", left)
	}
	t.Logf("fork bomb under a stated pids limit, rootless, delegated cgroup:\n%s", stated)
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}
