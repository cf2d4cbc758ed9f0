package launcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Stdio is where the agent's standard streams go.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// RunOptions are the command line's choices for one run.
type RunOptions struct {
	AllowDegraded bool
	EventsFile    string // where to write every event as JSON lines; "" for none
	Trace         bool   // record every access, not only denials
}

// Run starts the plan's agent in the host's sandbox and returns its exit status. What the
// sandbox denied is summarised on stdio.Stderr at the end.
func Run(ctx context.Context, plan *Plan, stdio Stdio, opts RunOptions) (int, error) {
	sb, err := newSandbox()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoLauncher, err)
	}
	var w io.Writer
	if opts.EventsFile != "" {
		f, err := os.OpenFile(opts.EventsFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return 0, fmt.Errorf("opening the events file: %w", err)
		}
		defer f.Close()
		w = f
	}
	log := events.NewLog(w)
	runID := newRunID()
	rec, endRun, err := recordRun(plan, runID, opts, stdio.Stderr)
	if err != nil {
		return 0, err
	}
	sink := events.Tee{log}
	if rec != nil {
		sink = append(sink, rec)
	}
	code := 0
	defer func() {
		endRun(code)
		for _, s := range log.Summary() {
			fmt.Fprintf(stdio.Stderr, "agentrun: %s\n", s)
		}
		if d, wd := log.Counts(); d+wd > 0 && rec != nil {
			fmt.Fprintf(stdio.Stderr, "agentrun: run `agentrun log --run %s` to see them\n", runID)
		}
		if err := log.Err(); err != nil {
			fmt.Fprintf(stdio.Stderr, "agentrun: writing the events file: %v\n", err)
		}
	}()
	inv := CurrentInvoker()
	uid, gid, groups := inv.UID, inv.GID, inv.Groups
	if os.Geteuid() != 0 {
		// Without privileges the agent runs as root of its own user namespace, which maps
		// to this user (see platform/linux).
		uid, gid, groups = 0, 0, nil
	}
	env := AgentEnv(plan.Policy, os.Environ())
	if inv.Sudo {
		env = setEnv(env, "HOME", inv.Home, "USER", inv.Name, "LOGNAME", inv.Name)
	}
	spec := &platform.Spec{
		Policy:        plan.Policy,
		Path:          plan.Path,
		Command:       plan.Command,
		Env:           env,
		Dir:           workingDir(plan),
		UID:           uid,
		GID:           gid,
		Groups:        groups,
		Stdin:         stdio.Stdin,
		Stdout:        stdio.Stdout,
		Stderr:        stdio.Stderr,
		AllowDegraded: opts.AllowDegraded,
		Events:        sink,
		RunID:         runID,
		Trace:         opts.Trace,
	}
	var missing []string
	if plan.Policy.Mode != profiles.ModeAudit { // audit mode leaves the user's files as the agent left them
		missing = missingProtected(plan.Policy)
	}
	code, err = sb.Run(ctx, spec)
	quarantine(missing, stdio.Stderr)
	return code, err
}

// recordRun opens the event store and starts this run's record in it. In audit mode the
// record is the point of the run, so a store that cannot be opened stops it; in enforce mode
// the run goes on with a warning (the summary and --events still report).
func recordRun(plan *Plan, runID string, opts RunOptions, stderr io.Writer) (events.Sink, func(int), error) {
	none := func(int) {}
	st, err := OpenStore()
	if err != nil {
		if plan.Policy.Mode == profiles.ModeAudit {
			return nil, none, err
		}
		fmt.Fprintf(stderr, "agentrun: %v; this run's events are not stored\n", err)
		return nil, none, nil
	}
	mode := string(plan.Policy.Mode)
	if opts.Trace {
		mode += "+trace"
	}
	run, err := st.BeginRun(store.RunInfo{ID: runID, Profile: plan.Policy.Name, Mode: mode, Command: plan.Command, Started: time.Now()})
	if err != nil {
		st.Close()
		if plan.Policy.Mode == profiles.ModeAudit {
			return nil, none, fmt.Errorf("recording the run in %s: %w", st.Path(), err)
		}
		fmt.Fprintf(stderr, "agentrun: recording the run in %s: %v; this run's events are not stored\n", st.Path(), err)
		return nil, none, nil
	}
	return run, func(code int) {
		if err := run.End(code); err != nil {
			fmt.Fprintf(stderr, "agentrun: storing the run's events in %s: %v\n", st.Path(), err)
		}
		st.Close()
	}, nil
}

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// workingDir is the current directory when the policy lets the agent see it, else the
// workspace.
func workingDir(plan *Plan) string {
	cwd, err := os.Getwd()
	if err != nil {
		return plan.Workspace
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	fs := plan.Policy.Filesystem
	for _, rules := range [][]string{paths(fs.Write), paths(fs.Read), paths(fs.Protect)} {
		for _, p := range rules {
			if cwd == p || strings.HasPrefix(cwd, p+"/") {
				return cwd
			}
		}
	}
	return plan.Workspace
}
