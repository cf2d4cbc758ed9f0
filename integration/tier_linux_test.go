package integration

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestLandlockSeccompTier runs an unprivileged user where user namespaces are forbidden (a
// seccomp filter, as container runtimes install):
// enforce mode refuses and says why; --allow-degraded runs the Landlock + seccomp tier, which
// still denies the secrets, system writes, ptrace and (with no network) TCP, and allows the
// workspace.
func TestLandlockSeccompTier(t *testing.T) {
	r := newRunner(t, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	r.jail = true

	res := r.sh(t, "true")
	if res.code != 125 || !strings.Contains(res.stderr, "the namespaces layer cannot be set up") || !strings.Contains(res.stderr, "creating one fails (operation not permitted)") || !strings.Contains(res.stderr, "--allow-degraded runs the Landlock + seccomp tier") {
		t.Fatalf("want enforce mode to refuse, naming the layer and the fix; got %s", res)
	}
	// The tier cannot keep .git/config and .git/hooks read-only inside the workspace: it
	// refuses the policy unless --allow-unprotected says to go on without that.
	res = r.sh(t, "true", "--allow-degraded")
	if res.code != 125 || !strings.Contains(res.stderr, "cannot keep protected paths inside writable directories") || !strings.Contains(res.stderr, "--allow-unprotected") {
		t.Fatalf("want the tier to refuse protect rules inside the workspace; got %s", res)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tc := range []confinementCase{
		{name: "ssh private key", script: "cat ~/.ssh/id_ed25519", want: "Permission denied"},
		{name: "ssh public key", script: "cat ~/.ssh/id_ed25519.pub", ok: true, want: "ssh-ed25519 AAAA public"},
		{name: "aws credentials", script: "cat ~/.aws/credentials", want: "Permission denied"},
		{name: "write etc", script: "echo x > /etc/agentrun-x", want: "Permission denied"},
		{name: "workspace write", script: "echo data > new.txt && cat new.txt", ok: true, want: "data"},
		{name: "workspace .env given up", script: "cat .env", ok: true, want: "TOKEN=secret"},
		{name: "ptrace", script: "sleep 5 & perl -e '$r = syscall(101, 16, $ARGV[0], 0, 0); print \"ptrace: $!\\n\"; exit($r == -1 ? 1 : 0)' $!", want: "ptrace: Operation not permitted"},
		{name: "tcp", script: fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d'", port), want: "Permission denied"},
		{name: "git", script: "git status --short | wc -l", ok: true, want: "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := r.sh(t, tc.script, "--allow-degraded", "--allow-unprotected")
			if tc.ok != (res.code == 0) || !strings.Contains(res.stdout+res.stderr, tc.want) {
				t.Errorf("want success %v and %q, got %s", tc.ok, tc.want, res)
			}
			if !strings.Contains(res.stderr, "giving up namespaces") {
				t.Errorf("want the run to say it gave up the namespaces layer, got %s", res)
			}
		})
	}
	// Without a PID namespace, what the agent leaves running must still end with it.
	if res := r.sh(t, "sleep 61.5 & echo started", "--allow-degraded", "--allow-unprotected"); res.code != 0 || processRunning("sleep 61.5") {
		t.Errorf("the agent's background process outlived it: %s", res)
	}
}
