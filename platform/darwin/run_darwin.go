//go:build darwin

package darwin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/agentrun/agentrun/netfilter/proxy"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/ptyrelay"
	"github.com/agentrun/agentrun/profiles"
)

// Run starts the agent of spec under sandbox-exec with the profile its policy compiles to,
// relays the terminal and signals, records the sandbox's reports as events, and returns the
// agent's exit status (128+N when killed by signal N).
func (b *Backend) Run(ctx context.Context, spec *platform.Spec) (int, error) {
	pol := spec.Policy
	out := outcomeOf(spec)
	h := launchHost()
	layers := layersFor(pol, h)
	givenUp, err := platform.DecideLayers(layers, spec.AllowDegraded, LayerSeatbelt)
	if err != nil {
		return 0, err
	}
	for _, l := range givenUp {
		fmt.Fprintf(spec.Stderr, "agentrun: --allow-degraded: giving up %s (%s)\n", l.Name, l.Enforces)
	}
	out.Tier, out.Layers = TierSandboxExec, layers
	out.Usage = platform.Usage{UnknownWhy: "macOS has no cgroups: agentrun measures no usage there"}
	if len(spec.Command) == 0 {
		return 0, fmt.Errorf("running under sandbox-exec: no command")
	}

	tag, err := newTag()
	if err != nil {
		return 0, err
	}
	eg, err := proxy.StartFor(ctx, pol, spec.Events)
	if err != nil {
		return 0, err
	}
	defer eg.Stop()
	prof, err := compileSBPL(pol, compileOptions{Tag: tag, ProxyPorts: eg.Ports, Audit: pol.Mode == profiles.ModeAudit})
	if err != nil {
		return 0, fmt.Errorf("compiling the policy to SBPL: %w", err)
	}
	file, err := b.writeProfile(tag, prof.Text)
	if err != nil {
		return 0, err
	}
	defer os.Remove(file)
	argv, err := sandboxArgv(file, prof.Params, spec.Path, spec.Command[1:])
	if err != nil {
		return 0, err
	}
	if h.LogStream && spec.Events != nil {
		f, err := startFollower(tag, judge{pol: pol}, spec.Events)
		if err != nil {
			fmt.Fprintf(spec.Stderr, "agentrun: the sandbox's reports are not recorded: %v\n", err)
		} else {
			defer f.stop()
		}
	}

	cmd := &exec.Cmd{Path: SandboxExec, Args: argv, Env: platform.WithEnv(spec.Env, eg.Env), Dir: spec.Dir, SysProcAttr: &syscall.SysProcAttr{}}
	if os.Geteuid() == 0 && spec.UID != 0 {
		// agentrun through sudo: the agent runs as the user who called it.
		groups := make([]uint32, len(spec.Groups))
		for i, g := range spec.Groups {
			groups[i] = uint32(g)
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(spec.UID), Gid: uint32(spec.GID), Groups: groups}
	}
	tty := ptyrelay.IsTerminal(spec.Stdin)
	var said *headWriter // where sandbox-exec says why it gave up
	var term *ptyrelay.Terminal
	if tty {
		said = &headWriter{w: ptyrelay.OutputOf(spec.Stdout, spec.Stderr)}
		if !ptyrelay.IsTerminalOut(spec.Stdout) {
			// A redirected stdout stays as it was (see the Linux stage's superviseAgent);
			// stderr stays on the terminal, where sandbox-exec says why it gave up.
			cmd.Stdout = spec.Stdout
		}
		if term, err = startTerminal(cmd, spec.Stdin.(*os.File), said); err != nil {
			return 0, err
		}
		defer term.Restore()
	} else {
		said = &headWriter{w: spec.Stderr}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, said
		cmd.SysProcAttr.Setpgid = true
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("starting %s: %w", SandboxExec, err)
		}
	}
	// The agent leads its own process group (session, with a terminal): signals go to the group.
	group := func(sig os.Signal) { _ = syscall.Kill(-cmd.Process.Pid, sig.(syscall.Signal)) }
	stopSignals := ptyrelay.RelaySignals(ctx, tty, group)
	if spec.Started != nil {
		spec.Started()
	}
	stopDeadline := platform.WatchDeadline(spec.Deadline, out, func() error { group(syscall.SIGTERM); return nil }, func() { group(syscall.SIGKILL) })
	werr := cmd.Wait()
	stopDeadline()
	stopSignals()
	if term != nil {
		term.Drain()
	}
	group(syscall.SIGKILL) // what the agent left running in its group ends with it
	code := platform.ExitCode(cmd.ProcessState, werr)
	if code < 0 {
		return 0, fmt.Errorf("waiting for the agent: %w", werr)
	}
	if n, ok := nestedFrom(code, said.head()); ok {
		return 0, n
	}
	return code, nil
}

// writeProfile writes the run's profile to the run directory, which no agent may read.
func (b *Backend) writeProfile(tag, text string) (string, error) {
	dir, err := b.runDir()
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, tag+"-*.sb")
	if err != nil {
		return "", fmt.Errorf("writing the sandbox profile: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the sandbox profile: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the sandbox profile: %w", err)
	}
	return f.Name(), nil
}

// newTag is the run's message tag: the profile's rules carry it and the unified log's
// reports of this run are found by it.
func newTag() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making the run's tag: %w", err)
	}
	return "agentrun-" + hex.EncodeToString(b), nil
}

func (b *Backend) runDir() (string, error) {
	dir := b.RunDir
	if dir == "" {
		dir = DefaultRunDir()
	}
	if dir == "" {
		return "", fmt.Errorf("finding agentrun's run directory: neither $HOME nor a cache directory is set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("making agentrun's run directory: %w", err)
	}
	return dir, nil
}

// outcomeOf is where a run records its outcome: the spec's, or one nobody reads.
func outcomeOf(spec *platform.Spec) *platform.Outcome {
	if spec.Outcome != nil {
		return spec.Outcome
	}
	return &platform.Outcome{}
}
