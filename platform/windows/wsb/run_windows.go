package wsb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/agentrun/agentrun/platform"
)

// Run compiles the policy to a .wsb in a new directory of the run directory, launches it and
// waits until the sandbox is closed; the exit status is the one the logon script wrote to the
// run folder.
func (b *Backend) Run(ctx context.Context, spec *platform.Spec) (int, error) {
	h := b.host()
	if err := h.usable(); err != nil {
		return 0, err
	}
	launch, launcher, _ := chooseLaunch(h.WSBCLI, h.Exe)
	if launch == LaunchExe && h.Open {
		return 0, errors.New("a Windows Sandbox window is open, and without the wsb command (Windows 11 24H2) Windows runs one at a time: close it, then run again")
	}
	base := b.runDir()
	if base == "" {
		return 0, errors.New("finding agentrun's run directory: no user cache directory (%LOCALAPPDATA%)")
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return 0, fmt.Errorf("making agentrun's run directory: %w", err)
	}
	dir, err := os.MkdirTemp(base, "run-")
	if err != nil {
		return 0, fmt.Errorf("making the run's directory: %w", err)
	}
	defer os.RemoveAll(dir)
	box := filepath.Join(dir, "box")
	if err := os.Mkdir(box, 0o700); err != nil {
		return 0, fmt.Errorf("making the run folder: %w", err)
	}
	home := os.Getenv("USERPROFILE")
	p, err := prepare(runRequest{
		Policy: spec.Policy, Home: home, Workspace: spec.Dir, Command: spec.Command,
		Lossy: spec.AllowDegraded, RunFolder: box, CloseOnExit: b.CloseOnExit,
		IsDir: func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() },
	})
	if err != nil {
		return 0, err
	}
	stderr := spec.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	for _, l := range p.Result.Lost {
		fmt.Fprintf(stderr, "agentrun: given up (--allow-degraded): %s\n", l)
	}
	for _, n := range p.Result.Notes {
		fmt.Fprintf(stderr, "agentrun: note: %s\n", clean(n))
	}
	file := filepath.Join(dir, "agentrun.wsb")
	if err := os.WriteFile(file, p.WSB, 0o600); err != nil {
		return 0, fmt.Errorf("writing the .wsb: %w", err)
	}
	if err := os.WriteFile(filepath.Join(box, scriptName), []byte(p.Script), 0o600); err != nil {
		return 0, fmt.Errorf("writing the logon script: %w", err)
	}
	if spec.Outcome != nil {
		spec.Outcome.Tier = TierWSB
		spec.Outcome.Layers = layersFor(Place(spec.Policy, home, spec.Dir), p.Result, h)
	}
	exitFile := filepath.Join(box, exitName)
	w := &waiter{
		exited: func() bool { _, err := os.Stat(exitFile); return err == nil },
		onExit: func() {
			if !b.CloseOnExit {
				fmt.Fprintln(stderr, "agentrun: the agent has exited; its window stays open for its output: close Windows Sandbox to end the run")
			}
		},
		Every: 2 * time.Second, Appear: 3 * time.Minute,
	}
	// The deadline (--timeout) discards the sandbox: a VM has no grace period, every process
	// ends at once.
	waitCtx := ctx
	if spec.Deadline != nil {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithDeadline(ctx, spec.Deadline.At)
		defer cancel()
	}
	timedOut := func(stopped bool) bool {
		hit := ctx.Err() == nil && errors.Is(waitCtx.Err(), context.DeadlineExceeded)
		if hit && spec.Outcome != nil {
			spec.Outcome.TimedOut, spec.Outcome.Killed = true, stopped
		}
		return hit
	}
	fmt.Fprintf(stderr, "agentrun: starting Windows Sandbox with %s (the agent runs in its window; a sandbox takes several seconds to boot)\n", launch)
	if spec.Started != nil {
		spec.Started()
	}
	switch launch {
	case LaunchCLI:
		out, err := exec.CommandContext(ctx, launcher, startArgs(launch, p.WSB, file)...).Output()
		if err != nil {
			return 0, fmt.Errorf("starting Windows Sandbox (wsb start): %w%s", err, stderrOf(err))
		}
		id, err := startedID(out)
		if err != nil {
			return 0, err
		}
		// Whatever happens from here, the sandbox is discarded.
		defer exec.Command(launcher, stopArgs(id)...).Run() //nolint:errcheck // gone already, or nothing more to do
		if out, err := exec.CommandContext(ctx, launcher, connectArgs(id)...).CombinedOutput(); err != nil {
			fmt.Fprintf(stderr, "agentrun: warning: no window for the sandbox (wsb connect: %v: %s); the agent runs without one\n", err, truncate(out))
		}
		w.open = func() (bool, error) {
			out, err := exec.Command(launcher, listArgs()...).Output()
			if err != nil {
				return false, fmt.Errorf("listing the sandboxes (wsb list): %w%s", err, stderrOf(err))
			}
			names, _ := processNames()
			return cliOpen(listed(out, id), w.exited(), sandboxOpen(names)), nil
		}
		if err := w.wait(waitCtx, true); err != nil {
			if timedOut(true) {
				return 0, nil // the deferred wsb stop discards it
			}
			return 0, err
		}
	case LaunchExe:
		cmd := exec.CommandContext(ctx, launcher, startArgs(launch, p.WSB, file)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("starting Windows Sandbox (%s): %w: %s", launcher, err, bytes.TrimSpace(out))
		}
		w.open = func() (bool, error) {
			names, err := processNames()
			if err != nil {
				return false, fmt.Errorf("listing the processes: %w", err)
			}
			return sandboxOpen(names), nil
		}
		if err := w.wait(waitCtx, false); err != nil {
			timedOut(false)
			if waitCtx.Err() != nil {
				return 0, fmt.Errorf("%w: WindowsSandbox.exe has no way to stop the sandbox; close its window", err)
			}
			return 0, err
		}
	}
	data, err := os.ReadFile(exitFile)
	if err != nil {
		return 0, ErrNoExit
	}
	code, ok := parseExit(data)
	if !ok {
		return 0, fmt.Errorf("%w: the run folder's exit file holds %q", ErrNoExit, truncate(data))
	}
	return code, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(bytes.TrimSpace(ee.Stderr)) > 0 {
		return ": " + truncate(ee.Stderr)
	}
	return ""
}
