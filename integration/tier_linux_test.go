package integration

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// withoutUserNamespaces turns user namespaces off on the host for the test
// (user.max_user_namespaces=0) and back on afterwards.
func withoutUserNamespaces(t *testing.T) {
	t.Helper()
	const knob = "/proc/sys/user/max_user_namespaces"
	old, err := os.ReadFile(knob)
	if err != nil {
		t.Skipf("cannot read %s: %v", knob, err)
	}
	if err := os.WriteFile(knob, []byte("0"), 0o644); err != nil {
		t.Skipf("cannot turn user namespaces off: %v", err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(knob, old, 0o644); err != nil {
			t.Errorf("restoring %s: %v", knob, err)
		}
	})
}

// TestLandlockSeccompTier runs an unprivileged user on a host without user namespaces:
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
	withoutUserNamespaces(t)

	res := r.sh(t, "true")
	if res.code != 125 || !strings.Contains(res.stderr, "the namespaces layer cannot be set up") || !strings.Contains(res.stderr, "max_user_namespaces") {
		t.Fatalf("want enforce mode to refuse, naming the layer and the fix; got %s", res)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tc := range []confinementCase{
		{name: "ssh private key", script: "cat ~/.ssh/id_ed25519", want: "Permission denied"},
		{name: "ssh public key", script: "cat ~/.ssh/id_ed25519.pub", ok: true, want: "ssh-ed25519 AAAA public"},
		{name: "aws credentials", script: "cat ~/.aws/credentials", want: "Permission denied"},
		{name: "write etc", script: "echo x > /etc/agentrun-x", want: "Permission denied"},
		{name: "workspace write", script: "echo data > new.txt && cat new.txt", ok: true, want: "data"},
		{name: "ptrace", script: "sleep 5 & perl -e '$r = syscall(101, 16, $ARGV[0], 0, 0); print \"ptrace: $!\\n\"; exit($r == -1 ? 1 : 0)' $!", want: "ptrace: Operation not permitted"},
		{name: "tcp", script: fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d'", port), want: "Permission denied"},
		{name: "git", script: "git status --short | wc -l", ok: true, want: "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := r.sh(t, tc.script, "--allow-degraded")
			if tc.ok != (res.code == 0) || !strings.Contains(res.stdout+res.stderr, tc.want) {
				t.Errorf("want success %v and %q, got %s", tc.ok, tc.want, res)
			}
			if !strings.Contains(res.stderr, "giving up namespaces") {
				t.Errorf("want the run to say it gave up the namespaces layer, got %s", res)
			}
		})
	}
}
