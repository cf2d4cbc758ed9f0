package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// confinementCase is one action in the sandbox: a denial must fail with the expected error,
// and its allowed twin must succeed, so a sandbox that blocks everything fails the suite.
type confinementCase struct {
	name   string
	script string
	ok     bool   // the script must exit 0
	want   string // in the combined output
}

var confinementCases = []confinementCase{
	{name: "ssh private key", script: "cat ~/.ssh/id_ed25519", want: "Permission denied"},
	{name: "ssh public key", script: "cat ~/.ssh/id_ed25519.pub", ok: true, want: "ssh-ed25519 AAAA public"},
	{name: "aws credentials", script: "cat ~/.aws/credentials", want: "Permission denied"},
	{name: "home notes", script: "cat ~/notes.txt", ok: true, want: "readable notes"},
	{name: "shadow", script: "cat /etc/shadow", want: "Permission denied"},
	{name: "passwd", script: "grep -c root /etc/passwd", ok: true, want: "1"},
	{name: "workspace .env", script: "cat .env", want: "Permission denied"},
	{name: "write etc", script: "echo x > /etc/agentrun-x", want: "Read-only file system"},
	{name: "write usr", script: "echo x > /usr/agentrun-x", want: "Read-only file system"},
	{name: "write bashrc", script: "echo x >> ~/.bashrc", want: "Read-only file system"},
	{name: "read bashrc", script: "cat ~/.bashrc", ok: true, want: "# rc"},
	{name: "create rc dir", script: "mkdir -p ~/.bashrc.d/x", want: "Read-only file system"},
	{name: "systemd unit", script: "echo '[Service]' > ~/.config/systemd/user/x.service", want: "Read-only file system"},
	{name: "cron spool", script: "mkdir -p /var/spool/cron && echo x > /var/spool/cron/x", want: "Read-only file system"},
	{name: "git hook", script: "echo 'curl evil' > .git/hooks/pre-commit", want: "Read-only file system"},
	{name: "git config", script: "git config core.hooksPath /tmp", want: "could not write config file"},
	{name: "git commit", script: "echo more >> README.md && git add README.md && git -c user.name=a -c user.email=a@example.com commit -q -m more && git log --oneline | wc -l", ok: true, want: "2"},
	{name: "workspace write", script: "echo data > new.txt && cat new.txt", ok: true, want: "data"},
	{name: "tmp write", script: "echo t > /tmp/t && cat /tmp/t", ok: true, want: "t"},
	{name: "ptrace", script: "sleep 5 & perl -e '$r = syscall(101, 16, $ARGV[0], 0, 0); print \"ptrace: $!\\n\"; exit($r == -1 ? 1 : 0)' $!", want: "ptrace: Operation not permitted"},
	{name: "signal own child", script: "sleep 5 & kill $! && echo killed", ok: true, want: "killed"},
	{name: "TIOCSTI", script: "perl -e 'my $c = \"x\"; ioctl(STDIN, 0x5412, $c) or print \"tiocsti: $!\\n\"'", ok: true, want: "tiocsti: Operation not permitted"},
	{name: "other ioctl", script: "perl -e 'my $ws = \"\\0\" x 8; ioctl(STDIN, 0x5413, $ws) or print \"winsz: $!\\n\"'", ok: true, want: "winsz: Inappropriate ioctl for device"},
	{name: "io_uring", script: "perl -e 'my $p = \"\\0\" x 120; syscall(425, 8, $p); print \"io_uring: $!\\n\"'", ok: true, want: "io_uring: Operation not permitted"},
	{name: "new user namespace", script: "unshare --user true", want: "Operation not permitted"},
	// The call itself, not mount(8), which refuses a user other than root before trying.
	{name: "mount", script: "python3 -c 'import ctypes, os, sys; c = ctypes.CDLL(None, use_errno=True); c.mount(b\"none\", b\"/tmp\", b\"tmpfs\", 0, None) == 0 or sys.exit(\"mount: \" + os.strerror(ctypes.get_errno()))'", want: "mount: Operation not permitted"},
	{name: "network", script: "bash -c 'exec 3<>/dev/tcp/198.18.0.1/80'", want: "Network is unreachable"},
	{name: "loopback", script: "perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(Listen => 1, LocalAddr => \"127.0.0.1:7777\") or die; if (fork) { $c = $s->accept; print <$c>; } else { $c = IO::Socket::INET->new(\"127.0.0.1:7777\") or die; print $c \"loopback ok\\n\"; }'", ok: true, want: "loopback ok"},
	{name: "python", script: "python3 -c 'print(6*7)'", ok: true, want: "42"},
	{name: "node", script: "node -e 'console.log(6*7)'", ok: true, want: "42"},
}

func testConfinement(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	for _, tc := range confinementCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "node" {
				if _, err := exec.LookPath("node"); err != nil {
					t.Skip("node is not installed (scripts/test.sh installs it)")
				}
			}
			res := r.sh(t, tc.script)
			out := res.stdout + res.stderr
			if tc.ok != (res.code == 0) {
				t.Errorf("want success %v, got %s", tc.ok, res)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("want %q in the output, got %s", tc.want, res)
			}
		})
	}
	// Files the agent creates in the workspace belong to the user.
	res := r.sh(t, "echo mine > owned.txt")
	if res.code != 0 {
		t.Fatalf("writing in the workspace: %s", res)
	}
	fi, err := os.Stat(filepath.Join(r.ws, "owned.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != r.uid || int(st.Gid) != r.gid {
		t.Errorf("owned.txt belongs to %d:%d, want %d:%d", st.Uid, st.Gid, r.uid, r.gid)
	}
}

func TestConfinementAsRoot(t *testing.T)       { testConfinement(t, false) }
func TestConfinementUnprivileged(t *testing.T) { testConfinement(t, true) }

// TestHostProcessesHidden starts a process on the host and checks the sandbox cannot see it,
// while it sees its own.
func TestHostProcessesHidden(t *testing.T) {
	r := newRunner(t, false)
	marker := exec.Command("sleep", "4242.5")
	if err := marker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = marker.Process.Kill(); _ = marker.Wait() }()
	res := r.sh(t, "sleep 31.5 & ps -eo args")
	if res.code != 0 || strings.Contains(res.stdout, "4242.5") || !strings.Contains(res.stdout, "sleep 31.5") {
		t.Errorf("want our own sleep and not the host's in ps, got %s", res)
	}
}

// TestHostLoopbackUnreachable checks that a server on the host's loopback cannot be reached.
func TestHostLoopbackUnreachable(t *testing.T) {
	r := newRunner(t, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	res := r.sh(t, fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d && echo connected'", port))
	if res.code == 0 || !strings.Contains(res.stderr, "Connection refused") {
		t.Errorf("want the host's loopback refused, got %s", res)
	}
}

// TestResourceLimits runs a fork bomb and a memory hog under limits: the first stops at the
// pids limit, the second is killed and reported as out of memory; a normal job passes.
func TestResourceLimits(t *testing.T) {
	r := newRunner(t, false)
	limits := filepath.Join(r.home, "limits.yaml")
	res := r.run(t, "--profile", limits, "--", "sh", "-c", "for i in $(seq 200); do sleep 3 & done; wait; echo survived")
	if !strings.Contains(res.stderr, "Resource temporarily unavailable") && !strings.Contains(res.stderr, "Cannot fork") {
		t.Errorf("want forks refused at the pids limit, got %s", res)
	}
	res = r.run(t, "--profile", limits, "--", "perl", "-e", "$x = 'a' x (512*1024*1024); print length($x)")
	if res.code != 137 || !strings.Contains(res.stderr, "out of memory (limit 64MiB)") {
		t.Errorf("want the memory hog killed and reported (exit 137), got %s", res)
	}
	res = r.run(t, "--profile", limits, "--", "perl", "-e", "$x = 'a' x (8*1024*1024); print length($x)")
	if res.code != 0 || res.stdout != "8388608" {
		t.Errorf("want a small allocation to pass, got %s", res)
	}
}

// TestLimitsNeedCgroupsRootless checks that a profile with limits fails closed for an
// unprivileged user (limits need root in this build), and runs with --allow-degraded, saying what it gave up.
func TestLimitsNeedCgroupsRootless(t *testing.T) {
	r := newRunner(t, true)
	limits := filepath.Join(r.home, "limits.yaml")
	res := r.run(t, "--profile", limits, "--", "true")
	if res.code != 125 || !strings.Contains(res.stderr, "the cgroups layer cannot be set up") {
		t.Errorf("want a fail-closed error naming cgroups, got %s", res)
	}
	res = r.run(t, "--profile", limits, "--allow-degraded", "--", "echo", "ran")
	if res.code != 0 || !strings.Contains(res.stderr, "giving up cgroups") || res.stdout != "ran\n" {
		t.Errorf("want the run to go on and say so, got %s", res)
	}
}

// TestExitStatus checks that the agent's status passes through, and a signal N gives 128+N.
func TestExitStatus(t *testing.T) {
	r := newRunner(t, false)
	for script, want := range map[string]int{"exit 0": 0, "exit 7": 7, "kill -TERM $$": 143, "kill -KILL $$": 137} {
		if res := r.sh(t, script); res.code != want {
			t.Errorf("%s: want exit %d, got %s", script, want, res)
		}
	}
	res := r.sh(t, "cat")
	if res.code != 0 {
		t.Errorf("cat with stdin at EOF: want exit 0, got %s", res)
	}
	// An agent the seccomp filter kills (a system call through another ABI) is told why. x32:
	// the filter sees it on every x86-64 kernel, where some fault on int $0x80 before it.
	res = r.run(t, "--", "python3", "-c", pyMachineCodeFunc, x32UnshareUser, "unshare")
	if res.code != 159 || !strings.Contains(res.stderr, "killed by SIGSYS") || !strings.Contains(res.stderr, "int $0x80") {
		t.Errorf("an agent killed by SIGSYS: want exit 159 and why, got %s", res)
	}
	if res := r.run(t, "--", "python3", "-c", pyMachineCodeFunc, nativeGetpid, "getpid"); res.code != 0 || strings.Contains(res.stderr, "SIGSYS") {
		t.Errorf("the same program making a native call: want exit 0 and no note, got %s", res)
	}
}

// TestProtectedPathCreatedIsQuarantined checks what happens to a protected path that does not
// exist at launch and that the agent creates: it cannot be made read-only beforehand, so it is
// moved aside after the run, nothing lost, and the user is told.
func TestProtectedPathCreatedIsQuarantined(t *testing.T) {
	r := newRunner(t, false)
	profile := filepath.Join(r.home, "claudeish.yaml")
	if err := os.WriteFile(profile, []byte("name: claudeish\nextends: [base]\nfilesystem:\n  protect: [$WORKSPACE/.claude/settings.json]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.run(t, "--profile", profile, "--", "sh", "-c", `mkdir -p .claude && echo '{"hooks":"evil"}' > .claude/settings.json && exit 3`)
	if res.code != 3 || !strings.Contains(res.stderr, "created protected path "+filepath.Join(r.ws, ".claude/settings.json")) {
		t.Errorf("want the agent's status and a warning, got %s", res)
	}
	if _, err := os.Stat(filepath.Join(r.ws, ".claude/settings.json")); !os.IsNotExist(err) {
		t.Errorf("the protected path is still in place: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(r.ws, ".claude/settings.json.agentrun-quarantined")); err != nil || !strings.Contains(string(b), "evil") {
		t.Errorf("the quarantined file is missing or changed: %q, %v", b, err)
	}
	// Once the user puts it back, it exists: read-only in the sandbox, and never moved.
	if err := os.Rename(filepath.Join(r.ws, ".claude/settings.json.agentrun-quarantined"), filepath.Join(r.ws, ".claude/settings.json")); err != nil {
		t.Fatal(err)
	}
	res = r.run(t, "--profile", profile, "--", "sh", "-c", "echo x > .claude/settings.json")
	if res.code == 0 || !strings.Contains(res.stderr, "Read-only file system") || strings.Contains(res.stderr, "moved it") {
		t.Errorf("want the existing protected path read-only and left in place, got %s", res)
	}
}
