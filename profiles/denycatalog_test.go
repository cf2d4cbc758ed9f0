package profiles_test

import (
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestDenyCatalog judges, with the resolved built-in policies, the paths of base's deny
// catalogue that no test can plant on a real system (root-owned system files, other users'
// runtime directories): each is denied by the rule that names it, and its twins are not.
// The home side is tested for real by integration/denycatalog_linux_test.go.
func TestDenyCatalog(t *testing.T) {
	c := testCatalog(t)
	base := resolve(t, c, "base")
	for _, tc := range []struct {
		path, rule string // rule: a piece of the deciding deny rule; "" for a twin that is readable
	}{
		{"/etc/ssl/private/ssl-cert-snakeoil.key", "/etc/ssl/private"},
		{"/etc/pki/tls/private/localhost.key", "/etc/pki/tls/private"},
		{"/etc/letsencrypt/archive/example.org/privkey1.pem", "/etc/letsencrypt/archive"},
		{"/etc/letsencrypt/live/example.org/privkey.pem", "/etc/letsencrypt/live"},
		{"/etc/wireguard/wg0.conf", "/etc/wireguard"},
		{"/etc/NetworkManager/system-connections/home.nmconnection", "/etc/NetworkManager/system-connections"},
		{"/etc/krb5.keytab", "/etc/krb5.keytab"},
		{"/etc/ipsec.secrets", "/etc/ipsec.secrets"},
		{"/etc/ipsec.d/private/host.pem", "/etc/ipsec.d/private"},
		{"/etc/ppp/chap-secrets", "/etc/ppp/*-secrets"},
		{"/etc/ppp/pap-secrets", "/etc/ppp/*-secrets"},
		{"/etc/openvpn/server/server.conf", "/etc/openvpn/server"},
		{"/etc/openvpn/client/work.conf", "/etc/openvpn/client"},
		{"/etc/openvpn/ta.key", "/etc/openvpn/*.key"},
		{"/etc/security/opasswd", "/etc/security/opasswd"},
		{"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_*_key"},
		{"/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki"},
		{"/var/lib/rancher/k3s/server/token", "/var/lib/rancher/k3s/server"},
		{"/var/lib/docker/swarm/certificates/swarm-node.key", "/var/lib/docker/swarm"},
		{"/var/lib/jenkins/secrets/master.key", "/var/lib/jenkins/secrets"},
		{"/var/lib/sss/secrets/secrets.ldb", "/var/lib/sss/secrets"},
		{"/var/lib/private/someservice/state", "/var/lib/private"},
		{"/var/lib/NetworkManager/secret_key", "/var/lib/NetworkManager/secret_key"},
		{"/var/lib/systemd/credential.secret", "/var/lib/systemd/credential.secret"},
		{"/run/user/1000/containers/auth.json", "/run/user/*/containers/auth.json"},
		{"/run/containers/0/auth.json", "/run/containers/*/auth.json"},
		{"/home/user/.ssh/id_ed25519_work", "~/.ssh/!(known_hosts|config|*.pub|*.sock)"},
		{"/home/user/.ssh/.hidden_key", "~/.ssh/!(known_hosts|config|*.pub|*.sock)"},
		{"/home/user/.pgpass", "~/.pgpass"},
		{"/home/user/.config/containers/auth.json", "~/.config/containers/auth.json"},
		// Twins: the same directories' ordinary files.
		{"/etc/ssl/certs/ca-certificates.crt", ""},
		{"/etc/ppp/options", ""},
		{"/etc/ssh/ssh_host_ed25519_key.pub", ""},
		{"/var/lib/dpkg/status", ""},
		{"/var/lib/NetworkManager/NetworkManager.state", ""},
		{"/home/user/.ssh/known_hosts", ""},
		{"/home/user/.ssh/config", ""},
		{"/home/user/.ssh/id_ed25519_work.pub", ""},
	} {
		d := base.CheckFile(tc.path, profiles.AccessRead)
		switch {
		case tc.rule == "" && strings.HasPrefix(d.Rule, "filesystem.deny"):
			t.Errorf("read %s: denied by %s, want it not denied", tc.path, d.Rule)
		case tc.rule != "" && (d.Allow || !strings.HasPrefix(d.Rule, "filesystem.deny "+tc.rule+" (")):
			t.Errorf("read %s: allow = %v by %q, want it denied by filesystem.deny %s", tc.path, d.Allow, d.Rule, tc.rule)
		}
	}
}

// TestAgentCredentialsCrossDenied checks that each agent's login tokens are denied under
// every other agent's built-in profile, and not under its own.
func TestAgentCredentialsCrossDenied(t *testing.T) {
	c := testCatalog(t)
	creds := map[string][]string{
		"claude":   {"/home/user/.claude/.credentials.json"},
		"codex":    {"/home/user/.codex/auth.json"},
		"gemini":   {"/home/user/.gemini/oauth_creds.json", "/home/user/.gemini/mcp-oauth-tokens.json"},
		"aider":    {"/home/user/.aider/oauth-keys.env"},
		"opencode": {"/home/user/.local/share/opencode/auth.json"},
	}
	for profile := range creds {
		pol := resolve(t, c, profile)
		for owner, paths := range creds {
			for _, p := range paths {
				denied := strings.HasPrefix(pol.CheckFile(p, profiles.AccessRead).Rule, "filesystem.deny")
				if denied != (owner != profile) {
					t.Errorf("profile %s, %s's %s: denied = %v, want %v", profile, owner, p, denied, owner != profile)
				}
			}
		}
	}
}
