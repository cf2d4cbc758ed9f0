package integration

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/events"
)

// The deny catalogue as defence in depth: a user profile that extends base and reads the
// whole home directory (the kind of profile the catalogue is there for) still cannot read
// any secret base denies, nor any SSH private key whatever its name, while known_hosts,
// config, a public key and an ordinary file stay readable. Home paths only: the system side
// (/etc/ssl/private, /etc/wireguard, /var/lib/…) holds root's real files on this machine,
// which a test must not plant or replace, so it is judged against the resolved base policy
// in profiles/denycatalog_test.go (TestDenyCatalog) instead.

// wideProfile reads the whole home directory, as users' own profiles did before issue 14.
const wideProfile = `name: wide
extends: [base, git]
filesystem:
  read: ["~"]
`

// catalogueSecrets are files at the home paths base denies, relative to the home, with
// odd-named SSH keys that no list of names would catch.
var catalogueSecrets = []string{
	".ssh/id_ed25519", ".ssh/id_work", ".ssh/deploy-key", ".ssh/.hidden_key", ".ssh/github_rsa",
	".pgpass", ".my.cnf", ".mylogin.cnf",
	".config/containers/auth.json", ".docker/config.json", ".config/helm/registry/config.json",
	".jfrog/jfrog-cli.conf.v6", ".config/jfrog/jfrog-cli.conf",
	".local/share/keyrings/login.keyring", ".local/share/kwalletd/kdewallet.kwl", ".password-store/bank.gpg",
	".config/Bitwarden CLI/data.json", ".config/op/config", ".op/config", ".config/keepassxc/keepassxc.ini",
	".config/rclone/rclone.conf", ".s3cfg", ".boto",
	".aws/credentials", ".config/gcloud/credentials.db", ".config/hcloud/cli.toml", ".config/linode-cli",
	".config/scw/config.yaml", ".config/sops/age/keys.txt", ".age/key.txt", ".config/age/keys.txt",
	".netrc", ".git-credentials", ".config/gh/hosts.yml", ".npmrc", ".vault-token", ".kube/config",
	".config/heroku/config.json", ".sentryclirc", ".config/sentry/cli.ini", ".terraformrc",
	".config/ngrok/ngrok.yml", ".ngrok2/ngrok.yml", ".config/stripe/config.toml",
	".fly/config.yml", ".config/flyctl/config.yml",
	".wrangler/config/default.toml", ".config/.wrangler/config/default.toml",
	".vercel/auth.json", ".local/share/com.vercel.cli/auth.json",
	".config/composer/auth.json", ".composer/auth.json",
}

// catalogueTwins are readable under the same profile: the names the SSH negation keeps,
// and an ordinary file.
var catalogueTwins = []string{".ssh/known_hosts", ".ssh/config", ".ssh/id_work.pub", "notes.txt"}

// readEach is a script that tries to read each file named in its arguments and prints one
// line per file: "ok PATH" or "err PATH: MESSAGE".
const readEach = `for f in "$@"; do
  if cat "$f" >/dev/null 2>/tmp/err; then echo "ok $f"; else echo "err $f: $(cat /tmp/err)"; fi
done`

func testDenyCatalog(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	files := map[string]string{".config/agentrun/profiles/wide.yaml": wideProfile}
	for _, f := range append(append([]string{}, catalogueSecrets...), catalogueTwins...) {
		if f != "notes.txt" && f != ".ssh/id_ed25519" && f != ".aws/credentials" { // the fixture has them
			files[f] = "content of " + f + "\n"
		}
	}
	for f, content := range files {
		writeOwned(t, r, filepath.Join(r.home, f), content) // parents owned by the runner: agentrun makes ~/.local/state/agentrun
	}
	var paths []string
	for _, f := range append(append([]string{}, catalogueSecrets...), catalogueTwins...) {
		paths = append(paths, filepath.Join(r.home, f))
	}
	run := func(mode string) (map[string]string, result) {
		args := append([]string{"--mode", mode, "--profile", "wide", "--network", "none", "--", "sh", "-c", readEach, "sh"}, paths...)
		res := r.run(t, args...)
		if res.code != 0 {
			t.Fatalf("%s run: %s", mode, res)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			verdict, rest, _ := strings.Cut(line, " ")
			path, msg, _ := strings.Cut(rest, ": ")
			got[path] = verdict + " " + msg
		}
		return got, res
	}

	// Enforce: every secret fails to open; which error the layer gives is logged once.
	got, res := run("enforce")
	errs := map[string]int{}
	for _, f := range catalogueSecrets {
		p := filepath.Join(r.home, f)
		v := got[p]
		switch {
		case strings.HasSuffix(v, "Permission denied"):
			errs["EACCES"]++
		case strings.HasSuffix(v, "No such file or directory"):
			errs["ENOENT"]++
		default:
			t.Errorf("enforce: %s: %q, want it unreadable (EACCES or ENOENT)\n%s", f, v, res)
		}
	}
	for _, f := range catalogueTwins {
		if v := got[filepath.Join(r.home, f)]; v != "ok " {
			t.Errorf("enforce: %s: %q, want it readable\n%s", f, v, res)
		}
	}
	t.Logf("enforce: the unreadable secrets' errors: %v", errs)

	// Audit: every read succeeds, and each secret's is a would-deny event naming its rule.
	if unprivileged {
		usableTUN(t) // audit mode always has the filtered network
	}
	got, res = run("audit")
	audit := storedEvents(t, r, "--run", runID(t, res))
	for _, f := range catalogueSecrets {
		p := filepath.Join(r.home, f)
		if v := got[p]; v != "ok " {
			t.Errorf("audit: %s: %q, want the read to succeed", f, v)
		}
		e, ok := findEvent(audit, "file read "+p)
		switch {
		case !ok:
			t.Errorf("audit: no event for reading %s", f)
		case e.Verdict != events.WouldDeny || !strings.HasPrefix(e.Rule, "filesystem.deny "):
			t.Errorf("audit: reading %s: verdict %s by %q, want would-deny by a filesystem.deny rule", f, e.Verdict, e.Rule)
		case strings.HasPrefix(f, ".ssh/") && !strings.HasPrefix(e.Rule, "filesystem.deny ~/.ssh/!(known_hosts|config|*.pub|*.sock) "):
			t.Errorf("audit: reading %s: rule %q, want the SSH negation", f, e.Rule)
		}
	}
	var wrong []string
	for _, f := range catalogueTwins {
		if e, ok := findEvent(audit, "file read "+filepath.Join(r.home, f)); ok && e.Verdict != events.Allowed {
			wrong = append(wrong, f+" ("+string(e.Verdict)+" by "+e.Rule+")")
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		t.Errorf("audit: the twins' reads are judged as denials: %v", wrong)
	}
}

func TestDenyCatalogAsRoot(t *testing.T)       { testDenyCatalog(t, false) }
func TestDenyCatalogUnprivileged(t *testing.T) { testDenyCatalog(t, true) }
