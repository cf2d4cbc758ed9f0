package wsb

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles/profilestest"
)

func TestChooseLaunch(t *testing.T) {
	for _, tc := range []struct {
		name, cli, exe string
		want           Launch
		path           string
	}{
		{"both: the wsb command", `C:\Windows\System32\wsb.exe`, `C:\Windows\System32\WindowsSandbox.exe`, LaunchCLI, `C:\Windows\System32\wsb.exe`},
		{"only the exe", "", `C:\Windows\System32\WindowsSandbox.exe`, LaunchExe, `C:\Windows\System32\WindowsSandbox.exe`},
		{"neither", "", "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, path, err := chooseLaunch(tc.cli, tc.exe)
			if l != tc.want || path != tc.path || (tc.want == 0) != errors.Is(err, ErrNoLauncher) {
				t.Errorf("chooseLaunch = %v, %q, %v", l, path, err)
			}
		})
	}
}

func TestStartArgs(t *testing.T) {
	wsb := []byte("<!--\n  a comment\n-->\n<Configuration><Networking>Disable</Networking></Configuration>\n")
	got := startArgs(LaunchCLI, wsb, `C:\run\agentrun.wsb`)
	want := []string{"--raw", "start", "--config", "<Configuration><Networking>Disable</Networking></Configuration>\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wsb start args %q, want %q", got, want)
	}
	if got := startArgs(LaunchExe, wsb, `C:\run\agentrun.wsb`); len(got) != 1 || got[0] != `C:\run\agentrun.wsb` {
		t.Errorf("WindowsSandbox.exe args %q", got)
	}
	if got := strings.Join(listArgs(), " "); got != "--raw list" {
		t.Errorf("list args %q", got)
	}
	if got := strings.Join(stopArgs("abc"), " "); got != "--raw stop --id abc" {
		t.Errorf("stop args %q", got)
	}
	if got := strings.Join(connectArgs("abc"), " "); got != "connect --id abc" {
		t.Errorf("connect args %q", got)
	}
}

func TestStartedIDAndListed(t *testing.T) {
	id, err := startedID([]byte(`{"Id":"12345678-ABCD-1234-abcd-1234567890AB"}`))
	if err != nil || id != "12345678-abcd-1234-abcd-1234567890ab" {
		t.Fatalf("startedID = %q, %v", id, err)
	}
	if _, err := startedID([]byte("Error: something")); err == nil {
		t.Error("startedID without a GUID: no error")
	}
	list := []byte(`{"WindowsSandboxEnvironments":[{"Id":"12345678-abcd-1234-ABCD-1234567890ab","Status":"Running"},{"Id":"87654321-abcd-1234-abcd-1234567890ab"}]}`)
	if !listed(list, id) {
		t.Error("a listed id is not found")
	}
	if listed(list, "00000000-abcd-1234-abcd-1234567890ab") || listed([]byte("[]"), id) {
		t.Error("an id that is not listed is found")
	}
}

func TestSandboxOpen(t *testing.T) {
	if !sandboxOpen([]string{"svchost.exe", "windowssandboxremotesession.exe"}) || !sandboxOpen([]string{"WindowsSandboxClient.exe"}) {
		t.Error("a sandbox window is not seen")
	}
	if sandboxOpen([]string{"WindowsSandbox.exe", "vmmem", "WindowsSandboxServer.exe"}) {
		t.Error("the launcher or the VM's processes count as a window")
	}
}

func TestCLIOpen(t *testing.T) {
	for _, tc := range []struct{ listed, exited, window, want bool }{
		{true, false, false, true},  // the agent runs, headless
		{true, false, true, true},   // the agent runs in its window
		{true, true, true, true},    // its output is on screen
		{true, true, false, false},  // exited, window closed: agentrun stops it
		{false, false, true, false}, // stopped from outside
	} {
		if got := cliOpen(tc.listed, tc.exited, tc.window); got != tc.want {
			t.Errorf("cliOpen(%v, %v, %v) = %v", tc.listed, tc.exited, tc.window, got)
		}
	}
}

func TestWithRunFolder(t *testing.T) {
	res, err := Compile(profilestest.Builtins(t, Env())["base"], testOptions("agent", true))
	if err != nil {
		t.Fatal(err)
	}
	out, err := withRunFolder(res.WSB, `C:\Users\ada\AppData\Local\agentrun\wsb\run-1\box`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "<!--") {
		t.Error("the leading comment is gone")
	}
	cfg, err := checkWSB(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	last := cfg.MappedFolders.MappedFolder[len(cfg.MappedFolders.MappedFolder)-1]
	if last.HostFolder != `C:\Users\ada\AppData\Local\agentrun\wsb\run-1\box` || last.SandboxFolder != RunFolder || last.ReadOnly != "false" {
		t.Errorf("run folder %+v", last)
	}
}

func TestPSQuote(t *testing.T) {
	for in, want := range map[string]string{
		"claude":          "'claude'",
		"it's":            "'it''s'",
		"a\u2019b":        "'a\u2019\u2019b'",
		"$env:X \"q\" `;": "'$env:X \"q\" `;'",
		"":                "''",
	} {
		if got := psQuote(in); got != want {
			t.Errorf("psQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRunScript(t *testing.T) {
	s := runScript([]string{"claude", "--prompt", `say "hi"`, "it's"}, joinArgs, false)
	for _, want := range []string{
		`Start-Process -FilePath 'claude' -ArgumentList '--prompt "say \"hi\"" it''s' -NoNewWindow -Wait -PassThru -ErrorAction Stop`,
		`$code = $p.ExitCode`,
		`Set-Content -LiteralPath 'C:\agentrun-run\exit' -Value $code -Encoding Ascii`,
		"close this window to end the run",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	s = runScript([]string{"cmd.exe"}, joinArgs, true)
	if strings.Contains(s, "-ArgumentList") {
		t.Errorf("no arguments, yet an ArgumentList (Start-Process refuses an empty one):\n%s", s)
	}
	if !strings.HasSuffix(s, "Stop-Computer -Force\r\n") || strings.Contains(s, "close this window") {
		t.Errorf("close on exit: the script does not end with the sandbox's shutdown:\n%s", s)
	}
}

func TestParseExit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
		ok   bool
	}{
		{"0\r\n", 0, true},
		{"\ufeff3\r\n", 3, true},
		{"255", 255, true},
		{"-1073741819", 1, true}, // an NTSTATUS (access violation)
		{"300", 1, true},
		{"", 0, false},
		{"x", 0, false},
	} {
		code, ok := parseExit([]byte(tc.in))
		if code != tc.code || ok != tc.ok {
			t.Errorf("parseExit(%q) = %d, %v; want %d, %v", tc.in, code, ok, tc.code, tc.ok)
		}
	}
}
