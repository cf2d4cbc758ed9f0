package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/fileaudit"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/platform/ptyrelay"
	"github.com/agentrun/agentrun/profiles"
)

// runDirect is the Landlock + seccomp tier, for a user who may not create namespaces: no
// container, the stage confines itself on the host (no_new_privs, Landlock with the denied
// paths cut out of the rules that would cover them, TCP cut off when the policy has no network,
// seccomp) and starts the agent. What only the mount layer can do (protect inside a writable
// directory, a private /tmp, hidden host processes) is given up, and --allow-degraded has said
// so before this runs.
func runDirect(ctx context.Context, spec *platform.Spec, pol *profiles.Policy, fs fsplan.Plan, given layerSet) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding the agentrun binary: %w", err)
	}
	link, err := newStageLink()
	if err != nil {
		return 0, err
	}
	defer link.Close()

	tty := ptyrelay.IsTerminal(spec.Stdin)
	noNetwork := pol.Network.None()
	sc, err := newStageConfig(spec, tty, punchHoles(directRules(pol, fs), deniedPaths(fs), listDir), seccompfilter.Spec{NoInet: noNetwork}, given)
	if err != nil {
		return 0, err
	}
	sc.Direct, sc.NoNetwork = true, noNetwork
	bin := findStage(self, spec.Stderr)
	defer bin.started()
	cmd := bin.command(link.childFiles()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL}
	// Signals are relayed from once the stage has its configuration (below) until every
	// deferred step here has run.
	stopSignals := func() {}
	defer func() { stopSignals() }()
	// The agent runs as our uid and may kill its stage (both are in one Landlock domain); what
	// it left running is then reparented to us, not to the host's init, and killed below.
	// Landlock's signal scoping (ABI 6) keeps the agent from killing agentrun itself.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("becoming the sandbox's subreaper: %w", err)
	}
	defer stage.KillChildren()
	runtime.LockOSThread() // the parent-death signal follows this thread (see sandboxRun.run)
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the sandbox stage: %w", err)
	}
	link.send(sc)
	// The relay's first signal.Notify starts Go's signal handling (≈ 1 ms): while the stage
	// starts, not before (as in the namespaced tiers, see sandboxRun.run).
	stopSignals = ptyrelay.RelaySignals(ctx, tty, func(sig os.Signal) { _ = cmd.Process.Signal(sig) })
	if sc.Seccomp != nil {
		// The stage hands over its notification descriptor before it starts the agent; it
		// ends (and the receive fails) if it cannot.
		if fds, err := link.recvHandover(); err == nil && fds[stage.HandoverListener] != nil {
			if n, err := fileaudit.GateDirect(fds[stage.HandoverListener], pol, spec, cmd.Process.Pid); err != nil {
				_ = cmd.Process.Kill()
			} else {
				defer n.Close()
			}
		}
	}
	if tty {
		// The agent is on the user's terminal: its stops are agentrun's job's.
		go stage.FollowStops(link.lifeW, ptyrelay.StopJob)
	}
	if spec.Started != nil {
		spec.Started()
	}
	out := outcomeOf(spec)
	stopDeadline := platform.WatchDeadline(spec.Deadline, out, func() error { return stage.Terminate(link.lifeW) }, func() { _ = cmd.Process.Kill() })
	werr := cmd.Wait()
	stopDeadline()
	out.Usage = platform.Usage{UnknownWhy: "the Landlock + seccomp tier runs without a cgroup"}
	code := platform.ExitCode(cmd.ProcessState, werr)
	if code < 0 {
		return 0, fmt.Errorf("waiting for the agent: %w", werr)
	}
	return code, nil
}

// directRules are the Landlock rules of the direct tier: the policy's paths as the mount plan
// resolved them, plus what every process needs from /dev and /proc, and the host's /tmp (the
// tier has no private one).
func directRules(pol *profiles.Policy, fs fsplan.Plan) []stage.Rule {
	rules := landlockRules(pol, fs)
	out := rules[:0]
	for _, r := range rules {
		if r.Path != "/" { // listing / is harmless only when the mounts decide what is there
			out = append(out, r)
		}
	}
	return out
}

func deniedPaths(fs fsplan.Plan) []string {
	var out []string
	for _, m := range fs.Mounts {
		if m.Access == fsplan.Deny {
			out = append(out, m.Path)
		}
	}
	return out
}

func listDir(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// punchHoles rewrites read rules so that none covers a denied path: a rule for a directory
// above a denied path is replaced by rules for each of its entries that do not lead to the
// denied path, recursively down to it, and the directories on the way may only be listed.
// Landlock only grants access beneath paths, so this is how a deny inside a readable tree is
// expressed without mounts. Entries created later in those directories are not covered.
// Write rules are not split: a file created in a split directory could not be written, which
// breaks every tool; a deny inside a writable directory is given up in this tier.
func punchHoles(rules []stage.Rule, denied []string, list func(string) []string) []stage.Rule {
	for _, d := range denied {
		var next []stage.Rule
		for _, r := range rules {
			switch {
			case profiles.Within(r.Path, d):
				// at or inside the denied path: dropped
			case profiles.Within(d, r.Path) && r.Rights == "r":
				next = append(next, split(r, d, list)...)
			default:
				next = append(next, r)
			}
		}
		rules = next
	}
	sort.SliceStable(rules, func(i, j int) bool {
		if rules[i].Path != rules[j].Path {
			return rules[i].Path < rules[j].Path
		}
		return rules[i].Rights < rules[j].Rights
	})
	out := rules[:0]
	for i, r := range rules {
		if i == 0 || r != rules[i-1] {
			out = append(out, r)
		}
	}
	return out
}

// split replaces rule r, above denied path d, by rules for the siblings along the way.
func split(r stage.Rule, d string, list func(string) []string) []stage.Rule {
	out := []stage.Rule{{Path: r.Path, Rights: "d"}}
	dir := r.Path
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(d, r.Path), "/"), "/") {
		for _, name := range list(dir) {
			if name != part {
				out = append(out, stage.Rule{Path: filepath.Join(dir, name), Rights: r.Rights})
			}
		}
		dir = filepath.Join(dir, part)
		if dir != d {
			out = append(out, stage.Rule{Path: dir, Rights: "d"})
		}
	}
	return out
}
