package fakemodel

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// agentsDir is where the integration machines install the agents' CLIs from npm.
const agentsDir = "/opt/agentrun-agents/bin"

// agentRun is how one agent's CLI is run against the server at base: its arguments and its
// environment beyond PATH and HOME. home is the agent's fresh HOME, for files it must find there.
type agentRun func(t *testing.T, base, home string) (args, env []string)

// TestAgents runs each agent's real CLI, unconfined, against the fake model on loopback, and
// checks that it ran both commands of the script (one succeeds, one fails), sent back their
// results and printed the final text.
func TestAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agents' CLIs (tens of seconds): not with -short")
	}
	tests := []struct {
		name string
		api  string
		run  agentRun
	}{
		{name: "claude", api: "anthropic", run: func(t *testing.T, base, home string) ([]string, []string) {
			// As root Claude Code refuses --dangerously-skip-permissions; --allowedTools is enough.
			return []string{"-p", "do the task", "--allowedTools", "Bash"},
				[]string{"ANTHROPIC_BASE_URL=" + base, "ANTHROPIC_API_KEY=sk-test", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"}
		}},
		{name: "codex", api: "openai", run: func(t *testing.T, base, home string) ([]string, []string) {
			provider := []string{"model_provider=fake", "model_providers.fake.name=fake",
				`model_providers.fake.base_url="` + base + `/v1"`, "model_providers.fake.env_key=OPENAI_API_KEY",
				"model_providers.fake.wire_api=responses", "model_providers.fake.supports_websockets=false",
				"analytics.enabled=false"}
			args := []string{"exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "--disable", "plugins", "-m", "fake-model"}
			for _, kv := range provider {
				args = append(args, "-c", kv)
			}
			return append(args, "do the task"), []string{"OPENAI_API_KEY=sk-test"}
		}},
		{name: "gemini", api: "gemini", run: func(t *testing.T, base, home string) ([]string, []string) {
			// GOOGLE_GEMINI_BASE_URL alone selects the "gateway" auth, which -p refuses
			// ("Invalid auth method selected"): the settings choose the API key.
			settings := `{"security": {"auth": {"selectedType": "gemini-api-key"}}, "privacy": {"usageStatisticsEnabled": false}}`
			if err := os.MkdirAll(filepath.Join(home, ".gemini"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(home, ".gemini", "settings.json"), []byte(settings), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"-p", "do the task", "--yolo", "--skip-trust", "-m", "gemini-2.5-flash"},
				[]string{"GOOGLE_GEMINI_BASE_URL=" + base, "GEMINI_API_KEY=sk-test", "GEMINI_SANDBOX=false"}
		}},
	}
	script := Script{
		Commands: []string{"echo hello from step one > out.txt && cat out.txt", "cat /nonexistent"},
		Final:    "All done.",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin := filepath.Join(agentsDir, tc.name)
			if _, err := os.Stat(bin); err != nil {
				t.Skipf("%s is not installed: %v", tc.name, err)
			}
			t.Parallel()
			var log bytes.Buffer
			srv := httptest.NewServer(New(script, &log))
			defer srv.Close()
			home, cwd, tmp := t.TempDir(), t.TempDir(), t.TempDir()
			args, env := tc.run(t, srv.URL, home)

			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = cwd
			// Nothing of the caller's environment (keys, sandbox settings) but PATH; any
			// stray HTTPS goes to a closed port instead of the internet.
			// Their temporary files (Claude Code's /tmp/claude-UID, its sockets) go in TMPDIR.
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + tmp, "LANG=C.UTF-8", "TERM=dumb",
				"HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1,localhost"}, env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.WaitDelay = 5 * time.Second
			err := cmd.Run()
			srv.Close() // no handler is still writing the log
			if err != nil {
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", tc.name, err, stdout.String(), stderr.String())
			}
			results, err := ReadResults(log.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			checkResults(t, tc.api, results)
			if !strings.Contains(stdout.String(), script.Final) {
				t.Errorf("stdout does not have the final text %q:\n%s\nstderr:\n%s", script.Final, stdout.String(), stderr.String())
			}
			if b, err := os.ReadFile(filepath.Join(cwd, "out.txt")); err != nil || string(b) != "hello from step one\n" {
				t.Errorf("out.txt in the agent's directory: %q, %v", b, err)
			}
		})
	}
}

// checkResults checks the tool results of the script: the first command's output, then the
// second's error.
func checkResults(t *testing.T, api string, results []Result) {
	t.Helper()
	if len(results) != 2 {
		t.Fatalf("%d tool results, want 2: %+v", len(results), results)
	}
	want := []struct {
		output  string
		isError bool
	}{
		{"hello from step one", false},
		{"/nonexistent: No such file or directory", true},
	}
	for i, r := range results {
		if r.API != api || r.Step != i || !strings.Contains(r.Output, want[i].output) || r.IsError != want[i].isError {
			t.Errorf("result %d: %+v, want API %s, output with %q, is_error %v", i, r, api, want[i].output, want[i].isError)
		}
	}
}
