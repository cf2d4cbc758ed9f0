package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
)

// agentProfile is the user's profile of the agent-like script below, before learning.
const agentProfile = `# The agent's profile: learn adds to it.
name: agent
extends: [base]
network:
  allow: ["allowed.test:80"] # what it needs for sure
`

// agentScript does what an agent might: reads a secret, appends to a log in the home
// directory, runs a wrapper from ~/tools that execs another interpreter (pg_dump is a Perl
// wrapper), reaches a host its profile does not name, and tries the metadata service.
const agentScript = `#!/bin/sh
cat ~/.aws/credentials
echo "ran" >> ~/data/agent.log
~/tools/pgdump
curl -sS -m 5 http://allowed.test/ && echo
curl -sS -m 5 http://evil.test/ && echo
curl -sS -m 3 http://169.254.169.254/ || echo "no metadata"
`

// pgdump is the wrapper: a shell script that hands over to Perl, which writes the dump.
const pgdump = `#!/bin/sh
exec perl -e 'open(my $f, ">", "$ENV{HOME}/dumps/db.sql") or die "dump: $!\n"; print $f "dump\n"; print "dumped\n"'
`

func writeFiles(t *testing.T, r *runner, files map[string]string, mode os.FileMode) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(r.home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if r.unprivate {
			chownToRunner(t, r, filepath.Dir(p), p)
		}
	}
}

func chownToRunner(t *testing.T, r *runner, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Chown(p, r.uid, r.gid); err != nil {
			t.Fatal(err)
		}
	}
}

// storedEvents is what agentrun log --json says about one run.
func storedEvents(t *testing.T, r *runner, args ...string) []events.Event {
	t.Helper()
	res := r.run(t, append([]string{"log", "--json", "--limit", "0"}, args...)...)
	if res.code != 0 {
		t.Fatalf("agentrun log: %s", res)
	}
	var out []events.Event
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e events.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("agentrun log --json: %v: %s", err, sc.Bytes())
		}
		out = append(out, e)
	}
	return out
}

// runID is the run an agentrun run names at its end ("agentrun log --run ID").
func runID(t *testing.T, res result) string {
	t.Helper()
	_, after, ok := strings.Cut(res.stderr, "agentrun log --run ")
	if !ok {
		t.Fatalf("the run names no run ID to look up: %s", res)
	}
	return strings.TrimRight(strings.Fields(after)[0], "`")
}

// eventKey is an event as a comparable line: verdict aside.
func eventKey(e events.Event) string {
	if e.Kind == events.KindFile || e.Kind == events.KindExec {
		return string(e.Kind) + " " + e.Op + " " + e.Path
	}
	return string(e.Kind) + " " + e.Name
}

func findEvent(evs []events.Event, key string) (events.Event, bool) {
	for _, e := range evs {
		if eventKey(e) == key {
			return e, true
		}
	}
	return events.Event{}, false
}

func testAudit(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t)
	}
	f := newFakeInternet(t)
	r.netns, r.resolv = f.client, f.resolv
	writeFiles(t, r, map[string]string{".config/agentrun/profiles/agent.yaml": agentProfile}, 0o644)
	writeFiles(t, r, map[string]string{"project/agent.sh": agentScript, "tools/pgdump": pgdump}, 0o755)
	for _, d := range []string{"data", "dumps"} {
		p := filepath.Join(r.home, d)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if unprivileged {
			chownToRunner(t, r, p)
		}
	}
	home := r.home

	// Audit: everything succeeds but the metadata service, and each would-be denial is stored.
	res := r.run(t, "--mode", "audit", "--profile", "agent", "--", "./agent.sh")
	if res.code != 0 {
		t.Fatalf("audit run: %s", res)
	}
	for _, want := range []string{"aws_secret_access_key", "dumped", "hello from allowed.test", "hello from evil.test", "no metadata"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("audit run: %q missing from the output: %s", want, res)
		}
	}
	if strings.Contains(res.stdout, "metadata-secret-token") {
		t.Errorf("audit mode reached the metadata service: %s", res)
	}
	if b, err := os.ReadFile(filepath.Join(home, "dumps/db.sql")); err != nil || string(b) != "dump\n" {
		t.Errorf("audit mode: the dump was not written: %v", err)
	}
	audit := storedEvents(t, r, "--run", runID(t, res))
	wants := map[string]string{ // event → a piece of its rule or reason
		"file read " + home + "/.aws/credentials": "filesystem.deny ~/.aws",
		"file create " + home + "/data/agent.log": "no filesystem rule covers it",
		"exec exec " + home + "/tools/pgdump":     "no exec.allow rule covers it",
		"file create " + home + "/dumps/db.sql":   "no filesystem rule covers it",
		"dns evil.test":                           "no rule allows this name",
		"flow evil.test":                          "",
	}
	for key, rule := range wants {
		e, ok := findEvent(audit, key)
		if !ok {
			t.Errorf("audit: no event %q among %d", key, len(audit))
			continue
		}
		if e.Verdict != events.WouldDeny {
			t.Errorf("audit: %s: verdict %s, want would-deny", key, e.Verdict)
		}
		if !strings.Contains(e.Rule+" "+e.Reason, rule) {
			t.Errorf("audit: %s: rule %q, reason %q; want %q in them", key, e.Rule, e.Reason, rule)
		}
	}
	// The dump was written by perl, which the wrapper started: the chain shows both.
	if e, ok := findEvent(audit, "file create "+home+"/dumps/db.sql"); ok {
		if len(e.Chain) < 2 || !strings.HasPrefix(e.Chain[0], "perl ") || !strings.Contains(e.Chain[1], "/tools/pgdump (pid") || !strings.HasSuffix(e.Exe, "/perl") {
			t.Errorf("the dump's process chain = %q (exe %s), want perl run by pgdump", e.Chain, e.Exe)
		}
	}
	metadata := false
	for _, e := range audit {
		if e.Kind == events.KindFlow && e.Address == "169.254.169.254" {
			metadata = e.Verdict == events.Denied
		}
	}
	if !metadata {
		t.Error("audit: the metadata flow is not recorded as denied")
	}
	// agentrun log shows each with its rule and process chain.
	text := r.run(t, "log", "--profile", "agent").stdout
	for _, want := range []string{"would-deny  exec exec " + home + "/tools/pgdump", "rule     filesystem.deny ~/.aws", "process  perl -e", "← " + home + "/tools/pgdump (pid"} {
		if !strings.Contains(text, want) {
			t.Errorf("agentrun log: %q missing:\n%s", want, text)
		}
	}
	if res := r.run(t, "report", "agent"); res.code != 1 || !strings.Contains(res.stdout, "not ready") {
		t.Errorf("report after the audit run: want not ready (exit 1), got %s", res)
	}

	// Enforce, from the same start: the script is denied where audit mode said it would be.
	resetAgentFiles(t, home)
	res = r.run(t, append(r.denials(), "--profile", "agent", "--", "./agent.sh")...)
	for _, absent := range []string{"aws_secret_access_key", "dumped", "hello from evil.test", "metadata-secret-token"} {
		if strings.Contains(res.stdout, absent) {
			t.Errorf("enforce run: %q got through: %s", absent, res)
		}
	}
	if !strings.Contains(res.stdout, "hello from allowed.test") {
		t.Errorf("enforce run: the allowed host was not reached: %s", res)
	}
	enforce := storedEvents(t, r, "--run", runID(t, res))
	auditKeys := map[string]bool{}
	for _, e := range audit {
		if e.Verdict != events.Allowed {
			auditKeys[eventKey(e)] = true
		}
	}
	denied := 0
	for _, e := range enforce {
		if e.Verdict == events.Allowed {
			continue
		}
		denied++
		if e.Verdict != events.Denied {
			t.Errorf("enforce: %s has verdict %s", eventKey(e), e.Verdict)
		}
		if !auditKeys[eventKey(e)] {
			t.Errorf("enforce denied %s (%s), which audit mode did not report", eventKey(e), e.Rule)
		}
	}
	// What follows a denial (perl's dump, the flow to a name never resolved) does not happen.
	for _, key := range []string{"file read " + home + "/.aws/credentials", "file create " + home + "/data/agent.log", "exec exec " + home + "/tools/pgdump", "dns evil.test"} {
		if e, ok := findEvent(enforce, key); !ok || e.Verdict != events.Denied {
			t.Errorf("enforce: %s is not recorded as denied (%+v)", key, e)
		}
	}
	if denied == 0 {
		t.Fatal("enforce run recorded no denials; the comparison proves nothing")
	}

	// Learn: the rules go into the user's profile; the secret and the metadata stay denied.
	res = r.run(t, "learn", "agent", "--yes", "--allow-write-outside-workspace")
	if res.code != 0 || !strings.Contains(res.stdout, "left denied: "+home+"/.aws/credentials") {
		t.Fatalf("agentrun learn --yes: want the secret left denied, got %s", res)
	}
	learned, err := os.ReadFile(filepath.Join(home, ".config/agentrun/profiles/agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# The agent's profile: learn adds to it.", "~/data", "~/dumps", "~/tools/pgdump", "evil.test:80"} {
		if !strings.Contains(string(learned), want) {
			t.Errorf("the learned profile lacks %q:\n%s", want, learned)
		}
	}
	for _, never := range []string{".aws", "169.254", "metadata"} {
		if strings.Contains(string(learned), never) {
			t.Errorf("the learned profile names %q:\n%s", never, learned)
		}
	}
	if res := r.run(t, "report", "agent"); res.code != 1 || !strings.Contains(res.stdout, "no run since") {
		t.Errorf("report right after learning: want not ready for want of a run, got %s", res)
	}
	// The same work, without the secret and the metadata, runs in enforce mode without a
	// denial; the secret stays denied; and the profile is ready.
	resetAgentFiles(t, home)
	clean := strings.NewReplacer("cat ~/.aws/credentials\n", "", "curl -sS -m 3 http://169.254.169.254/ || echo \"no metadata\"\n", "").Replace(agentScript)
	writeFiles(t, r, map[string]string{"project/clean.sh": clean}, 0o755)
	res = r.run(t, "--profile", "agent", "--", "./clean.sh")
	if res.code != 0 || strings.Contains(res.stderr, "denied") {
		t.Errorf("the learned profile in enforce mode: want no denial, got %s", res)
	}
	for _, want := range []string{"dumped", "hello from allowed.test", "hello from evil.test"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("the learned profile in enforce mode: %q missing: %s", want, res)
		}
	}
	if res := r.run(t, append(r.denials(), "--profile", "agent", "--", "cat", filepath.Join(home, ".aws/credentials"))...); res.code == 0 || strings.Contains(res.stdout, "aws_secret") {
		t.Errorf("the learned profile gives the secret away: %s", res)
	}
	// That run was denied, so the profile is not ready over a window that holds it; over
	// one that holds only a clean run, it is.
	if res := r.run(t, "report", "agent"); res.code != 1 || !strings.Contains(res.stdout, "denied     file read "+home+"/.aws/credentials") {
		t.Errorf("report with the secret's denial in the window: want not ready, got %s", res)
	}
	mark := time.Now()
	resetAgentFiles(t, home)
	if res := r.run(t, "--profile", "agent", "--", "./clean.sh"); res.code != 0 {
		t.Fatalf("clean run: %s", res)
	}
	if res := r.run(t, "report", "agent", "--since", mark.Format(time.RFC3339Nano)); res.code != 0 || !strings.Contains(res.stdout, "ready for enforce mode: 1 runs") {
		t.Errorf("report after learning and a clean run: want ready, got %s", res)
	}
}

// resetAgentFiles removes what agent.sh wrote, so that each run starts alike.
func resetAgentFiles(t *testing.T, home string) {
	t.Helper()
	for _, f := range []string{"data/agent.log", "dumps/db.sql"} {
		if err := os.Remove(filepath.Join(home, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

func TestAuditAsRoot(t *testing.T)       { testAudit(t, false) }
func TestAuditUnprivileged(t *testing.T) { testAudit(t, true) }
