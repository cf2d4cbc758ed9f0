package launcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/steps"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// Stdio is where the agent's standard streams go.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// RunOptions are the command line's choices for one run.
type RunOptions struct {
	AllowDegraded    bool
	AllowUnprotected bool   // with AllowDegraded: run the Landlock + seccomp tier although it cannot keep protect rules inside write roots
	EventsFile       string // where to write every event as JSON lines; "" for none
	Trace            bool   // record every access, not only denials
	// Timeout ends the run that long after it starts (SIGTERM to the whole sandbox, SIGKILL
	// TimeoutGrace later); Run then returns ExitTimeout. 0: no deadline.
	Timeout, TimeoutGrace time.Duration
	Report                string // where to write the run's report (JSON; "-": stdout); "" for none
	Version               string // agentrun's version, for the report
}

// Run starts the plan's agent in the host's sandbox and returns its exit status (ExitTimeout
// when its deadline was hit). What the sandbox denied is summarised on stdio.Stderr at the
// end, and reported as opts asks (see finishCI).
func Run(ctx context.Context, plan *Plan, stdio Stdio, opts RunOptions) (status int, err error) {
	start := time.Now()
	if err := checkReportPath(opts.Report); err != nil {
		return 0, err
	}
	sb := plan.backend
	if err := sb.Probe(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoLauncher, err)
	}
	if err := createOwnDirs(plan.Policy, plan.env, sb); err != nil {
		return 0, err
	}
	if err := createStateDirs(plan.Policy, plan.env.Home); err != nil {
		return 0, err
	}
	if err := checkInherited(plan.Policy, stdio); err != nil {
		return 0, err
	}
	for _, l := range linkedDenied(plan.Policy) {
		fmt.Fprintf(stdio.Stderr, "agentrun: warning: %s\n", l)
	}
	var w io.Writer
	if opts.EventsFile != "" {
		// With the invoker's rights under sudo: a link of theirs must not open a file of
		// root's for appending.
		var f *os.File
		err := asInvoker(func() (err error) {
			f, err = os.OpenFile(opts.EventsFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("opening the events file: %w", err)
		}
		defer f.Close()
		w = f
	}
	log := events.NewLimitedLog(w, eventsFileLimit)
	runID := newRunID()
	rec := startRecord(plan, runID, opts)
	if plan.Policy.Mode == profiles.ModeAudit {
		// The record is the point of an audit run: no store, no run.
		if err := rec.wait(); err != nil {
			return 0, err
		}
	}
	notes := &protectNotes{}
	absent := &absentNotes{}
	// Every producer's events are stamped here, once, with the run and its profile.
	sink := events.Stamp(events.Tee{log, rec, notes, absent}, runID, plan.Policy.Name)
	code := 0
	outcome := &platform.Outcome{WantUsage: opts.Report != "" || inGitHubActions()}
	defer func() {
		info, stored := rec.end(code, stdio.Stderr)
		steps.Step("run recorded")
		for _, s := range log.Summary() {
			fmt.Fprintf(stdio.Stderr, "agentrun: %s\n", s)
		}
		for _, s := range capLines(info, log.Unwritten(), opts.EventsFile) {
			fmt.Fprintf(stdio.Stderr, "agentrun: %s\n", s)
		}
		for _, s := range notes.lines() {
			fmt.Fprintf(stdio.Stderr, "agentrun: %s\n", s)
		}
		if !absent.empty() {
			for _, s := range absent.lines(plan.Policy, plan.home(), plan.absentFix(stored)) {
				fmt.Fprintf(stdio.Stderr, "agentrun: %s\n", s)
			}
		}
		if code != 0 && plan.Policy.Mode == profiles.ModeEnforce {
			if s := plan.unrecordedFiles(opts.Trace); s != "" {
				fmt.Fprintf(stdio.Stderr, "agentrun: %s\n", s)
			}
		}
		if d, wd := log.Counts(); d+wd > 0 && stored {
			fmt.Fprintf(stdio.Stderr, "agentrun: run `agentrun log --run %s` to see them\n", runID)
		}
		if err := log.Err(); err != nil {
			fmt.Fprintf(stdio.Stderr, "agentrun: writing the events file: %v\n", err)
		}
		in := reportInput{plan: plan, opts: opts, runID: runID, start: start, code: code, outcome: outcome, log: log}
		var oom *platform.OOMError
		if err != nil && !errors.As(err, &oom) {
			in.code, in.status = -1, ExitCode(err)
		}
		if s := finishCI(in, stdio.Stdout, stdio.Stderr); err == nil {
			status = s
		}
	}()
	inv := userdirs.Current()
	uid, gid, groups := inv.UID, inv.GID, inv.Groups
	if os.Geteuid() != 0 {
		// Without privileges the agent is this user in a user namespace that maps only them
		// (see platform/linux): no other groups can be set there.
		groups = nil
	}
	env := AgentEnv(plan.Policy, os.Environ())
	if inv.Sudo {
		env = setEnv(env, "HOME", inv.Home, "USER", inv.Name, "LOGNAME", inv.Name)
	}
	after := prepareAfterRun(plan, runID, inv, stdio)
	spec := &platform.Spec{
		Policy:           plan.Policy,
		Path:             plan.Path,
		Command:          plan.Command,
		Env:              env,
		Dir:              workingDir(plan),
		UID:              uid,
		GID:              gid,
		Groups:           groups,
		Stdin:            stdio.Stdin,
		Stdout:           stdio.Stdout,
		Stderr:           stdio.Stderr,
		AllowDegraded:    opts.AllowDegraded,
		AllowUnprotected: opts.AllowUnprotected,
		Events:           sink,
		Trace:            opts.Trace,
		Deadline:         deadlineOf(opts, start),
		Outcome:          outcome,
		// The run's start goes to the store's journal once the agent runs, beside it: never on
		// the launch; the database opens only for an event.
		Started: func() { go rec.started(); go after.beginWindow() },
	}
	code, err = sb.Run(ctx, spec)
	steps.Step("sandbox removed")
	after.finish()
	return code, err
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
