package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events"
)

// agentsPrefix is where .ci/run installs the agents of testdata/agents.txt
// (npm install --global --prefix).
const agentsPrefix = "/opt/agentrun-agents"

// agentInstall is the once-per-test-binary npm install of the agents, used where .ci/run's is
// absent; TestMain removes its directory.
var agentInstall struct {
	once sync.Once
	dir  string // the prefix, under /opt: base reads /opt, and the test user can reach it
	err  error
}

// agentPackages reads testdata/agents.txt: command name → pinned npm package.
func agentPackages(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile("testdata/agents.txt")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
			out[f[1]] = f[0]
		}
	}
	return out
}

// agentBin is the path of an agent's command: from .ci/run's install, or else from an npm
// install of every pinned agent made once per test binary. Where neither has it (npm absent or
// the registry refusing), the test skips and says why.
func agentBin(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs coding agents installed from npm; skipped with -short")
	}
	pkgs := agentPackages(t)
	if _, ok := pkgs[name]; !ok {
		t.Fatalf("%s is not in testdata/agents.txt", name)
	}
	if p := filepath.Join(agentsPrefix, "bin", name); fileExists(p) {
		return hostRuns(t, p)
	}
	agentInstall.once.Do(func() {
		if _, err := exec.LookPath("npm"); err != nil {
			agentInstall.err = err
			return
		}
		dir, err := os.MkdirTemp("/opt", "agentrun-agents-test-")
		if err != nil {
			agentInstall.err = err
			return
		}
		agentInstall.dir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			agentInstall.err = err
			return
		}
		args := []string{"install", "--global", "--prefix", dir, "--no-fund", "--no-audit", "--cache", filepath.Join(dir, ".npm-cache")}
		for _, p := range pkgs {
			args = append(args, p)
		}
		if out, err := exec.Command("npm", args...).CombinedOutput(); err != nil {
			agentInstall.err = &installError{err: err, out: string(out)}
		}
	})
	p := filepath.Join(agentInstall.dir, "bin", name)
	if agentInstall.err != nil || !fileExists(p) {
		t.Skipf("%s (%s) is not installed in %s and npm could not install it (.ci/run installs it): %v", name, pkgs[name], agentsPrefix, agentInstall.err)
	}
	return hostRuns(t, p)
}

// hostRuns skips the test when the agent does not run on this host even unconfined (an npm
// package's engines asking for a newer Node than the distribution's): that is no finding
// about the sandbox.
func hostRuns(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("%s --version fails on this host, outside the sandbox (%v): %s", bin, err, out)
	}
	return bin
}

type installError struct {
	err error
	out string
}

func (e *installError) Error() string {
	out := e.out
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return "npm install: " + e.err.Error() + "\n" + out
}

// removeAgentInstall removes the agents the tests installed themselves.
func removeAgentInstall() {
	if agentInstall.dir != "" {
		os.RemoveAll(agentInstall.dir)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// eventsFile makes an empty file the runner's user can append to, outside the fixture home,
// for agentrun's --events.
func eventsFile(t *testing.T, r *runner) string {
	t.Helper()
	f, err := os.CreateTemp(filepath.Dir(r.home), "events-*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	chownToRunner(t, r, f.Name())
	return f.Name()
}

// readEvents reads an --events file.
func readEvents(t *testing.T, path string) []events.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []events.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e events.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v: %s", path, err, sc.Bytes())
		}
		out = append(out, e)
	}
	return out
}

// auditException is a would-deny event an agent is known to cause under its built-in profile,
// and why the profile does not allow it.
type auditException struct {
	agent  string // "" for every agent
	op     string // "" for every operation
	path   string // relative to the home when it does not start with /; a trailing * matches any rest; dns:NAME a name looked up
	reason string
}

// auditExceptions are the only would-deny (in enforce mode: denied) events the agents' real work may cause (issue 14
// asks for none; each of these is a decision, or a gap recorded for another layer).
var auditExceptions = []auditException{
	{agent: "claude", op: "connect", path: "$TMPDIR/cc-socks/*",
		reason: "Claude Code connects to a socket it made in $TMPDIR, a host directory: the socket gate refuses pathname sockets no rule names"},
	{agent: "claude", op: "read", path: "$WORKSPACE/.env",
		reason: "Claude Code reads the project's .env in a session (seen with the fake model API); base denies it as a secret"},
	{agent: "gemini", op: "read", path: "$WORKSPACE/.env",
		reason: "Gemini CLI loads the project's .env into its environment; base denies it as a secret"},
	{agent: "codex", path: "dns:ab.chatgpt.com",
		reason: "codex asks its feature-flag host at start; the profile leaves it out on purpose (codex works without it)"},
	{agent: "codex", path: ".codex/packages*",
		reason: "codex copies its binary to ~/.codex/packages and runs it; the profile protects that directory, since what the agent wrote there would run outside the sandbox the next time"},
}

// unexplained is the would-deny events of one agent's run that no exception covers; network
// events aside (the runs have no network).
func unexplained(evs []events.Event, agent string, r *runner) []string {
	var out []string
	for _, e := range evs {
		if e.Verdict != events.WouldDeny || e.Kind == events.KindDNS || e.Kind == events.KindFlow {
			continue
		}
		if !excepted(e, agent, r) {
			out = append(out, eventKey(e)+" ("+e.Rule+": "+e.Reason+")")
		}
	}
	return out
}

func excepted(e events.Event, agent string, r *runner) bool {
	for _, x := range auditExceptions {
		if x.agent != "" && x.agent != agent || x.op != "" && x.op != e.Op {
			continue
		}
		p := x.path
		if name, ok := strings.CutPrefix(p, "dns:"); ok {
			if e.Kind == events.KindDNS && e.Name == name {
				return true
			}
			continue
		}
		switch {
		case strings.HasPrefix(p, "$TMPDIR/"):
			p = filepath.Join(r.tmp, strings.TrimPrefix(p, "$TMPDIR/"))
		case strings.HasPrefix(p, "$WORKSPACE/"):
			p = filepath.Join(r.ws, strings.TrimPrefix(p, "$WORKSPACE/"))
		case !strings.HasPrefix(p, "/"):
			p = filepath.Join(r.home, p)
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(e.Path, prefix) || e.Path == p {
			return true
		}
	}
	return false
}

// agentStartups are the agents whose start-up the tests run: what --version prints, and what
// the TUI's first screen shows.
var agentStartups = []struct {
	agent, version, screen string
}{
	{agent: "claude", version: "(Claude Code)", screen: "Claude Code"},
	{agent: "codex", version: "codex-cli", screen: "OpenAI Codex"},
	{agent: "gemini", version: ".", screen: "Trust folder"},
}

// agentHome makes r's home that of a user who has run the agents before: their state
// directories exist (a write root is bound only when it does), and codex's first-start note
// is taken. It returns the PATH that finds the agent bin.
func agentHome(t *testing.T, r *runner, bin string) string {
	t.Helper()
	for _, d := range []string{".claude", ".codex", ".gemini", ".npm"} {
		mkdirOwned(t, r, filepath.Join(r.home, d))
	}
	writeOwned(t, r, filepath.Join(r.home, ".claude.json"), "{}\n")
	writeOwned(t, r, filepath.Join(r.home, ".codex/config.toml"), "[tui]\nscreen_reader_detection_done = true\n")
	return filepath.Dir(bin) + ":/usr/local/bin:/usr/bin:/bin"
}

// TestAgents runs Claude Code, Codex and Gemini CLI, installed from npm, under their built-in
// profiles (chosen by the command's name), as root and as a user: --version and the TUI's
// first screen under tmux, in enforce mode, then again in audit mode, where the only would-deny
// events may be the explained exceptions above.
func TestAgents(t *testing.T) {
	for _, tc := range agentStartups {
		t.Run(tc.agent, func(t *testing.T) {
			bin := agentBin(t, tc.agent)
			asRootAndUser(t, func(t *testing.T, r *runner) {
				path := agentHome(t, r, bin)
				dry := r.command(t.Context(), "--dry-run", "--network=none", "--", tc.agent)
				dry.Env = append(dry.Env, "PATH="+path)
				if out, err := dry.CombinedOutput(); err != nil || !strings.Contains(string(out), " "+tc.agent+" (builtin/"+tc.agent+".yaml): base → ") {
					t.Errorf("%s was not matched to its built-in profile: %v\n%s", tc.agent, err, out)
				}
				for _, mode := range []string{"enforce", "audit"} {
					evFile := eventsFile(t, r)
					args := runArgs(r, mode, evFile)
					cmd := r.command(t.Context(), append(args, "--", tc.agent, "--version")...)
					cmd.Env = append(cmd.Env, "PATH="+path)
					out, err := cmd.CombinedOutput()
					if err != nil || !strings.Contains(string(out), tc.version) {
						t.Fatalf("%s: %s --version: %v\n%s", mode, tc.agent, err, out)
					}
					runTUI(t, r, path, args, tc.agent, tc.screen)
					if mode == "audit" {
						if bad := unexplained(readEvents(t, evFile), tc.agent, r); len(bad) > 0 {
							t.Errorf("audit mode: %d would-deny events no profile rule or listed exception explains:\n%s", len(bad), strings.Join(bad, "\n"))
						}
					}
				}
			})
		})
	}
}

// runArgs are agentrun's options for a run in mode without network, its events appended to
// evFile. Audit mode records the flows enforce mode would deny, through the network filter,
// which a user needs /dev/net/tun for: without it, the user's audit runs go on without that
// layer (--allow-degraded), as the file events are what is judged here.
func runArgs(r *runner, mode, evFile string) []string {
	args := []string{"--mode", mode, "--network=none", "--events", evFile}
	if fi, err := os.Stat("/dev/net/tun"); r.unprivate && mode == "audit" && (err != nil || fi.Mode().Perm()&0o006 != 0o006) {
		args = append(args, "--allow-degraded")
	}
	return args
}

// runTUI starts the agent's TUI under tmux as the runner's user, waits for its first screen,
// then interrupts it until agentrun has ended (its events are then all written).
func runTUI(t *testing.T, r *runner, path string, args []string, agent, screen string) {
	t.Helper()
	tm := newTmux(t)
	argv := r.wrap(append(append([]string{agentrunBin}, args...), "--", agent))
	// The shell ignores SIGINT from the start, agentrun (a subshell that resets it) does not: a
	// Ctrl-C that lands after agentrun has put the terminal back and before the shell has
	// printed its status must not end the session (and the tmux server with it) before the
	// loop below reads the status.
	script := "trap '' INT; cd " + r.ws + " && (trap - INT; exec env HOME=" + r.home + " PATH=" + path + " TERM=xterm-256color LANG=C.UTF-8 TMPDIR=" + r.tmp +
		" XDG_CONFIG_HOME=" + filepath.Join(r.home, ".config") + " USER=" + r.name + " " + shellJoin(argv) + "); echo agentrun-exit=$?; sleep 60"
	tm.cmd("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "sh", "-c", script)
	tm.waitFor(screen)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if strings.Contains(tm.cmd("capture-pane", "-p", "-t", "t"), "agentrun-exit=") {
			return
		}
		tm.cmd("send-keys", "-t", "t", "C-c")
	}
	t.Fatalf("%s did not end on Ctrl-C:\n%s", agent, tm.cmd("capture-pane", "-p", "-t", "t"))
}

// shellJoin quotes argv for sh.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
