package mdm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles/profilestest"
)

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkRules decodes a rules file strictly (only santactl's documented keys) and checks each
// rule is one Santa imports: a known policy and type, a BINARY identifier of 64 hex digits.
func checkRules(t *testing.T, data []byte) RuleFile {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f RuleFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("rules do not decode strictly: %v\n%s", err, data)
	}
	if f.Rules == nil {
		t.Errorf(`no "rules" array: %s`, data)
	}
	for i, r := range f.Rules {
		if !contains([]string{"ALLOWLIST", "BLOCKLIST", "ALLOWLIST_COMPILER", "SILENT_BLOCKLIST"}, r.Policy) {
			t.Errorf("rule %d: policy %q", i, r.Policy)
		}
		if !contains([]string{"BINARY", "SIGNINGID", "TEAMID", "CERTIFICATE", "CDHASH"}, r.RuleType) {
			t.Errorf("rule %d: rule_type %q", i, r.RuleType)
		}
		if r.RuleType == RuleTypeBinary && !sha256RE.MatchString(r.Identifier) {
			t.Errorf("rule %d: identifier %q is not a SHA-256", i, r.Identifier)
		}
	}
	return f
}

func TestRulesHashPrograms(t *testing.T) {
	pol := profilestest.Builtins(t, Env("/Users/ada", "/Users/ada/project"))["claude"]
	dir := t.TempDir()
	tool := filepath.Join(dir, "tool")
	content := []byte("#!/bin/sh\necho tool\n")
	if err := os.WriteFile(tool, content, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(tool, link); err != nil {
		t.Fatal(err)
	}
	exes := []Executable{
		{Path: tool, Count: 3},
		{Path: tool, Count: 3}, // twice: one rule
		{Path: link, Count: 1}, // a symbolic link is not hashed
		{Path: "/Users/ada/project/node_modules/.bin/x", Count: 2}, // agent-writable
		{Path: "relative", Count: 1},                               // not a path
	}
	res, err := CompileRules(pol, exes, RulesOptions{Hash: HashFile})
	if err != nil {
		t.Fatal(err)
	}
	f := checkRules(t, res.JSON)
	sum := sha256.Sum256(content)
	if len(f.Rules) != 1 || f.Rules[0].Identifier != hex.EncodeToString(sum[:]) || f.Rules[0].Policy != PolicyAllowlist {
		t.Fatalf("rules = %+v, want one ALLOWLIST rule for %s's SHA-256", f.Rules, tool)
	}
	if len(res.Unhashed) != 1 || !strings.Contains(res.Unhashed[0], "santactl rule --allow --path '"+link+"'") {
		t.Errorf("unhashed = %q, want the santactl command for %s", res.Unhashed, link)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "left out: /Users/ada/project/node_modules/.bin/x is under $WORKSPACE") {
		t.Errorf("notes lack the agent-writable program:\n%s", notes)
	}
	if !strings.Contains(notes, "not a regular file") {
		t.Errorf("notes lack why the link was not hashed:\n%s", notes)
	}
}

func TestRulesWithoutHash(t *testing.T) {
	pol := profilestest.Builtins(t, Env("", ""))["codex"]
	res, err := CompileRules(pol, []Executable{{Path: "/usr/local/bin/node", Count: 9}}, RulesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f := checkRules(t, res.JSON); len(f.Rules) != 0 {
		t.Errorf("rules without a hash: %+v", f.Rules)
	}
	want := `santactl rule --allow --path '/usr/local/bin/node' --comment 'agentrun codex: /usr/local/bin/node (seen 9 times)'`
	if len(res.Unhashed) != 1 || res.Unhashed[0] != want {
		t.Errorf("unhashed = %q, want %q", res.Unhashed, want)
	}
}

func TestRulesNoEvents(t *testing.T) {
	pol := profilestest.Builtins(t, Env("", ""))["codex"]
	_, err := CompileRules(pol, nil, RulesOptions{})
	if err == nil || !strings.Contains(err.Error(), "--mode audit --trace") {
		t.Errorf("err = %v, want one that says how to record exec events", err)
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("/a b/it's"); got != `'/a b/it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}
