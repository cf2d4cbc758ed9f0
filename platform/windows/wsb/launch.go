package wsb

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/platform/windows/cmdline"
	"github.com/agentrun/agentrun/profiles"
)

// Launch is how a run opens Windows Sandbox.
type Launch int

const (
	// LaunchCLI is the wsb command line (Windows 11 24H2 and later): wsb start --config
	// XML returns the new sandbox's id, wsb connect opens its window, wsb list names the
	// sandboxes still running and wsb stop discards one, so the run follows its own sandbox
	// exactly and never leaves it running.
	LaunchCLI Launch = iota + 1
	// LaunchExe is WindowsSandbox.exe FILE.wsb, on every version with Windows Sandbox: it
	// returns at once, having handed the file to the sandbox's service, and the run waits for
	// the sandbox's window process to come and go. Windows Sandbox runs one sandbox at a
	// time there, so that process is this run's.
	LaunchExe
)

func (l Launch) String() string {
	switch l {
	case LaunchCLI:
		return "wsb start"
	case LaunchExe:
		return "WindowsSandbox.exe"
	}
	return "none"
}

// ErrNoLauncher means neither the wsb command nor WindowsSandbox.exe was found.
var ErrNoLauncher = errors.New("neither the wsb command on PATH nor WindowsSandbox.exe was found: Windows Sandbox is not enabled")

// chooseLaunch prefers the wsb command (its path, "" when not on PATH), else
// WindowsSandbox.exe (its path, "" when missing).
func chooseLaunch(wsbCLI, exe string) (Launch, string, error) {
	switch {
	case wsbCLI != "":
		return LaunchCLI, wsbCLI, nil
	case exe != "":
		return LaunchExe, exe, nil
	}
	return 0, "", ErrNoLauncher
}

// startArgs are the arguments of the launcher after its name: for the wsb command the
// configuration itself (wsb start takes XML, not a file) with --raw for a JSON answer; for
// WindowsSandbox.exe the .wsb file.
func startArgs(l Launch, config []byte, file string) []string {
	if l == LaunchCLI {
		return []string{"--raw", "start", "--config", string(bareXML(config))}
	}
	return []string{file}
}

// listArgs and stopArgs are the wsb command's arguments that list the running sandboxes
// and stop one.
func listArgs() []string          { return []string{"--raw", "list"} }
func stopArgs(id string) []string { return []string{"--raw", "stop", "--id", id} }

// connectArgs open the window of a sandbox started with wsb start, which runs without one.
func connectArgs(id string) []string { return []string{"connect", "--id", id} }

// cliOpen is whether a run launched with the wsb command goes on: while its sandbox is
// listed, until the agent has exited and no sandbox window is open. A sandbox the wsb
// command started outlives its window (the window is a remote session to it), so the run
// ends when the agent has exited and its output window is closed, and agentrun stops the
// sandbox; a window closed while the agent runs leaves it running, headless, until it
// exits or agentrun is interrupted.
func cliOpen(listed, exited, window bool) bool { return listed && (!exited || window) }

var guidRE = profiles.LazyRegexp(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// startedID is the sandbox's id in what wsb start wrote (JSON with --raw, a sentence
// without): the first GUID in it.
func startedID(out []byte) (string, error) {
	id := guidRE().Find(out)
	if id == nil {
		return "", fmt.Errorf("wsb start named no sandbox id: %q", truncate(out))
	}
	return strings.ToLower(string(id)), nil
}

// listed reports whether wsb list's output names the sandbox id. Only the GUIDs in it are
// read, so that the answer does not hang on the output's exact shape.
func listed(out []byte, id string) bool {
	for _, g := range guidRE().FindAll(out, -1) {
		if strings.EqualFold(string(g), id) {
			return true
		}
	}
	return false
}

// WindowProcesses are the processes of an open Windows Sandbox window: the client of
// Windows 10 and Windows 11 before 24H2, and the remote session of 24H2 (the Store-updated
// sandbox). WindowsSandbox.exe itself only hands the file over and exits; vmmem and
// WindowsSandboxServer may outlive the window briefly, so they do not count.
var WindowProcesses = []string{"WindowsSandboxClient.exe", "WindowsSandboxRemoteSession.exe"}

// sandboxOpen reports whether a process list (executable names) holds an open sandbox.
func sandboxOpen(names []string) bool {
	for _, n := range names {
		for _, w := range WindowProcesses {
			if strings.EqualFold(n, w) {
				return true
			}
		}
	}
	return false
}

func truncate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// bareXML is a compiled .wsb without its leading comment.
func bareXML(wsb []byte) []byte {
	if bytes.HasPrefix(wsb, []byte("<!--")) {
		if i := bytes.Index(wsb, []byte("-->\n")); i >= 0 {
			return wsb[i+4:]
		}
	}
	return wsb
}

// withRunFolder adds the run's own folder (the logon script, the exit status) to a compiled
// .wsb, writable, at RunFolder; the leading comment stays.
func withRunFolder(wsb []byte, hostDir string) ([]byte, error) {
	body := bareXML(wsb)
	head := wsb[:len(wsb)-len(body)]
	var cfg Configuration
	if err := xml.Unmarshal(body, &cfg); err != nil {
		return nil, fmt.Errorf("reading the compiled .wsb: %w", err)
	}
	if cfg.MappedFolders == nil {
		cfg.MappedFolders = &MappedFolders{}
	}
	cfg.MappedFolders.MappedFolder = append(cfg.MappedFolders.MappedFolder, MappedFolder{HostFolder: hostDir, SandboxFolder: RunFolder, ReadOnly: false})
	var b bytes.Buffer
	b.Write(head)
	return appendXML(&b, &cfg)
}

// RunFolder is where the run's own folder is mapped inside the sandbox: the logon script
// and the file the agent's exit status is written to. It is writable, so the agent can
// write its own exit status there: the status is the agent's word, as it is on any host.
const RunFolder = `C:\agentrun-run`

// The files of the run folder.
const (
	scriptName = "run.ps1"
	exitName   = "exit"
)

// logonArgv is the command the .wsb's logon command runs in the workspace: PowerShell
// running the run's script.
func logonArgv() []string {
	return []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", RunFolder + `\` + scriptName}
}

// psQuote is s as a PowerShell single-quoted string: every quote PowerShell takes for a
// single quote (', and the typographic ‘ ’ ‚ ‛) is doubled, nothing else has a meaning.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// runScript is the PowerShell script that runs argv in the sandbox, waits for it and
// writes its exit status to the run folder, then says so in the window, which stays open
// (the logon command's cmd.exe /k) for the agent's output until the user closes it.
// Start-Process passes one ArgumentList string on as the command line, unchanged, so the
// arguments are quoted once, by the rules of CommandLineToArgvW (join); a program that
// cannot start leaves 127, as a shell does.
// With closeOnExit the script shuts the sandbox down instead, which discards it and ends the
// run (unattended runs, tests).
func runScript(argv []string, join func([]string) string, closeOnExit bool) string {
	var b strings.Builder
	b.WriteString("# Written by agentrun for one run in Windows Sandbox.\r\n")
	b.WriteString("$code = 127\r\n")
	b.WriteString("try {\r\n")
	b.WriteString("  $p = Start-Process -FilePath " + psQuote(argv[0]))
	if len(argv) > 1 {
		b.WriteString(" -ArgumentList " + psQuote(join(argv[1:])))
	}
	b.WriteString(" -NoNewWindow -Wait -PassThru -ErrorAction Stop\r\n")
	b.WriteString("  $code = $p.ExitCode\r\n")
	b.WriteString("} catch {\r\n")
	b.WriteString("  Write-Host \"agentrun: $_\"\r\n")
	b.WriteString("}\r\n")
	b.WriteString("Set-Content -LiteralPath " + psQuote(RunFolder+`\`+exitName) + " -Value $code -Encoding Ascii\r\n")
	if closeOnExit {
		b.WriteString("Stop-Computer -Force\r\n")
		return b.String()
	}
	b.WriteString("Write-Host \"agentrun: the agent exited with status $code; close this window to end the run.\"\r\n")
	return b.String()
}

// parseExit reads the exit status the script wrote; ok is false when there is none (the
// sandbox was closed before the agent exited) or it is not a number.
func parseExit(data []byte) (code int, ok bool) {
	s := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	if n < 0 || n > 255 {
		// A Windows exit status is 32 bits (an NTSTATUS such as 0xC0000005); agentrun's is a
		// byte, as on Linux: anything outside is a failure.
		return 1, true
	}
	return n, true
}

// joinArgs is the arguments after the program name as one command-line string, each quoted
// for CommandLineToArgvW (cmdline.Quote).
func joinArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = cmdline.Quote(a)
	}
	return strings.Join(q, " ")
}
