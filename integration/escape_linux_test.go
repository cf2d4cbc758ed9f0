package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The escape suite: attempts to leave the sandbox as an attacker would, each beside its allowed
// twin, so that a sandbox that blocks everything fails as surely as one that blocks nothing.
// Each class of attack lives in its own escape_CLASS_linux_test.go, which adds its attempts to
// escapeAttempts from an init function. TestEscapeSuite runs every attempt in every situation
// it names and writes one line per run to $AGENTRUN_ESCAPE_REPORT (scripts/test.sh prints the
// summary from it: "escape suite: N/N held").

// situation is who runs agentrun, in which tier.
type situation int

const (
	asRoot     situation = 1 << iota // root, full tier
	asUser                           // an unprivileged user, full tier (user namespaces)
	asDegraded                       // an unprivileged user without user namespaces: --allow-degraded
)

func (s situation) String() string {
	switch s {
	case asRoot:
		return "root"
	case asUser:
		return "user"
	case asDegraded:
		return "degraded"
	}
	return fmt.Sprintf("situation(%d)", int(s))
}

// escapeAttempt is one attack and its allowed twin.
type escapeAttempt struct {
	class string // the class of attack, as the hardening issue numbers them: "rename", "unix socket", …
	name  string
	where situation // the situations it runs in; 0 means everywhere
	// profile is the profile to run under: "" for the runner's test profile (base and git),
	// a built-in name, or a name relative to the fixture home.
	profile string
	args    []string // more agentrun flags, before --
	// setup prepares the host before the attack (a listening socket, a planted file).
	setup func(t *testing.T, r *runner)
	// attack is the agent's shell script. It held when it exits non-zero and prints want
	// (when want is set), and after, if set, finds nothing wrong on the host.
	attack string
	want   string
	// held, when set, replaces the exit status check: it returns why the attack got through,
	// or nil.
	held func(r *runner, res result) error
	// after checks the host once the run is over (a planted command that must not run, a file
	// that must be unchanged); it returns why the attack got through, or nil.
	after func(t *testing.T, r *runner, res result) error
	// control is the allowed twin: it must exit 0 and print controlWant.
	control     string
	controlWant string
	// protects marks an attack on protect rules inside the workspace. The degraded tier
	// cannot keep those and refuses such a policy unless --allow-unprotected is given, which
	// the suite gives every other attempt there: a protects attack must be refused (exit 125,
	// naming --allow-unprotected), its twin runs with the flag.
	protects bool
	// stdin and controlStdin name what the attack's and the twin's agentrun get as standard
	// input, a path relative to the fixture home; extraFile what the attack's gets as its
	// descriptor 3. Empty: nothing.
	stdin, controlStdin, extraFile string
	// env is more variables in agentrun's environment, for the attack and the twin.
	env []string
}

func (a escapeAttempt) runsIn(s situation) bool { return a.where == 0 || a.where&s != 0 }

// escapeAttempts is the suite; escape_*_linux_test.go files add to it.
var escapeAttempts []escapeAttempt

// escapeResults collects "held" or the reason per attempt and situation, for the summary.
var escapeResults = struct {
	sync.Mutex
	lines []string
	held  int
	total int
}{}

func recordEscape(s situation, a escapeAttempt, err error) {
	escapeResults.Lock()
	defer escapeResults.Unlock()
	escapeResults.total++
	verdict := "held"
	if err == nil {
		escapeResults.held++
	} else {
		verdict = "GOT THROUGH: " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	escapeResults.lines = append(escapeResults.lines, fmt.Sprintf("%s\t%s\t%s\t%s", s, a.class, a.name, verdict))
}

// writeEscapeReport writes the per-run lines and the summary to $AGENTRUN_ESCAPE_REPORT.
func writeEscapeReport() {
	path := os.Getenv("AGENTRUN_ESCAPE_REPORT")
	escapeResults.Lock()
	defer escapeResults.Unlock()
	if path == "" || escapeResults.total == 0 {
		return
	}
	lines := append([]string(nil), escapeResults.lines...)
	sort.Strings(lines)
	classes := map[string]bool{}
	for _, a := range escapeAttempts {
		classes[a.class] = true
	}
	lines = append(lines, fmt.Sprintf("escape suite: %d/%d held (%d attempts in %d classes, each with its allowed twin)",
		escapeResults.held, escapeResults.total, len(escapeAttempts), len(classes)))
	_ = os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func TestEscapeSuite(t *testing.T) {
	requireRoot(t)
	defer writeEscapeReport()
	for _, s := range []situation{asRoot, asUser, asDegraded} {
		t.Run(s.String(), func(t *testing.T) {
			for _, a := range escapeAttempts {
				if !a.runsIn(s) {
					continue
				}
				t.Run(a.class+"/"+a.name, func(t *testing.T) {
					r := newRunner(t, s != asRoot)
					r.jail = s == asDegraded
					if a.setup != nil {
						a.setup(t, r)
					}
					err := runEscape(t, r, s, a)
					recordEscape(s, a, err)
					if err != nil {
						t.Errorf("%s: %v", a.name, err)
					}
				})
			}
		})
	}
}

// runEscape runs the control and the attack and says why the attempt got through, or nil.
func runEscape(t *testing.T, r *runner, s situation, a escapeAttempt) error {
	t.Helper()
	args := []string{"--profile", escapeProfile(r, a.profile), "--network", "none"}
	if s == asDegraded {
		args = append(args, "--allow-degraded")
	}
	args = append(args, a.args...)
	refusedHere := s == asDegraded && a.protects
	r.env = append(r.env, a.env...)
	if a.control != "" {
		controlArgs := append([]string(nil), args...)
		if s == asDegraded {
			controlArgs = append(controlArgs, "--allow-unprotected")
		}
		res := r.runFiles(t, openFixture(t, r, a.controlStdin), nil, append(controlArgs, "--", "sh", "-c", a.control)...)
		if res.code != 0 || !strings.Contains(res.stdout+res.stderr, a.controlWant) {
			// Not an escape, but the twin shows the sandbox is too tight: fail the test.
			t.Errorf("the allowed twin failed (want exit 0 and %q): %s", a.controlWant, res)
		}
	}
	if s == asDegraded && !a.protects {
		args = append(args, "--allow-unprotected")
	}
	var extra []*os.File
	if a.extraFile != "" {
		extra = append(extra, openFixture(t, r, a.extraFile))
	}
	res := r.runFiles(t, openFixture(t, r, a.stdin), extra, append(append([]string(nil), args...), "--", "sh", "-c", a.attack)...)
	var err error
	switch {
	case refusedHere:
		if res.code != 125 || !strings.Contains(res.stderr, "--allow-unprotected") {
			err = fmt.Errorf("want the Landlock + seccomp tier to refuse the policy (exit 125, naming --allow-unprotected): %s", res)
		}
	case a.held != nil:
		err = a.held(r, res)
	case res.code == 0:
		err = fmt.Errorf("the attack exited 0: %s", res)
	case a.want != "" && !strings.Contains(res.stdout+res.stderr, a.want):
		err = fmt.Errorf("want %q in the output: %s", a.want, res)
	}
	if err == nil && a.after != nil {
		err = a.after(t, r, res)
	}
	return err
}

// openFixture opens a path relative to the fixture home for reading, closed when the test
// ends; "" is nil.
func openFixture(t *testing.T, r *runner, name string) *os.File {
	t.Helper()
	if name == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(r.home, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// escapeProfile is the --profile argument for an attempt's profile.
func escapeProfile(r *runner, p string) string {
	switch {
	case p == "":
		return r.profile
	case strings.HasSuffix(p, ".yaml"):
		return filepath.Join(r.home, p)
	}
	return p
}
