package launcher

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/safefs"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/userdirs"
)

// ReportSchemaVersion is the version of the --report format, docs/report.schema.json. It
// changes only when a field changes meaning or goes away; new fields keep it.
const ReportSchemaVersion = 1

// Report is one run as agentrun --report writes it (docs/report.schema.json).
type Report struct {
	SchemaVersion int           `json:"schema_version"`
	Version       string        `json:"agentrun_version"`
	RunID         string        `json:"run_id"`
	Command       []string      `json:"command"`
	Profile       ReportProfile `json:"profile"`
	Mode          string        `json:"mode"`
	Trace         bool          `json:"trace"`
	Tier          *string       `json:"tier"` // null: the run did not start
	Layers        []ReportLayer `json:"layers"`
	Start         time.Time     `json:"start"`
	Duration      float64       `json:"duration_seconds"`
	Exit          ReportExit    `json:"exit"`
	Timeout       *ReportTimout `json:"timeout"` // null without --timeout
	Resources     ReportUsage   `json:"resources"`
	Events        ReportCounts  `json:"events"`
	Denials       []ReportGroup `json:"denials"`
}

// ReportProfile is the profile a run used.
type ReportProfile struct {
	Name   string `json:"name"`
	Source string `json:"source"` // a file path, or builtin/NAME.yaml
}

// ReportLayer is one confinement layer and its state: on, off, n/a, unavailable, MISSING or
// given up (--allow-degraded).
type ReportLayer struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Enforces string `json:"enforces"`
}

// ReportExit is how the agent ended.
type ReportExit struct {
	Code     int  `json:"code"`            // as a shell reports it: 128+N when killed by signal N; -1 when it never ran
	Signal   *int `json:"signal"`          // N when Code is 128+N, else null
	Agentrun int  `json:"agentrun_status"` // agentrun's own exit status (124 when the deadline was hit)
}

// ReportTimout is --timeout and what it did.
type ReportTimout struct {
	Seconds      float64 `json:"seconds"`
	GraceSeconds float64 `json:"grace_seconds"`
	Hit          bool    `json:"hit"`
	Killed       bool    `json:"killed"` // SIGKILL was needed after the grace period
}

// ReportUsage is what the run's cgroup measured; null where it is not known.
type ReportUsage struct {
	MemoryPeakBytes *int64   `json:"memory_peak_bytes"`
	PidsPeak        *int64   `json:"pids_peak"`
	CPUSeconds      *float64 `json:"cpu_seconds"`
	UnknownWhy      *string  `json:"unknown_reason"`
}

// ReportCounts are the run's events by verdict; Uncounted are denied or would-be denied
// events past the cap of groups, in the totals but in no group of Denials.
type ReportCounts struct {
	Allowed   int `json:"allowed"`
	Denied    int `json:"denied"`
	WouldDeny int `json:"would_deny"`
	Uncounted int `json:"uncounted"`
}

// ReportGroup is the denied (or, in audit mode, would-be denied) events of one kind,
// operation, target and rule, with the first of them.
type ReportGroup struct {
	Verdict events.Verdict `json:"verdict"`
	Kind    events.Kind    `json:"kind"`
	Op      string         `json:"operation"`
	Target  string         `json:"target"`
	Rule    string         `json:"rule"`
	Count   int            `json:"count"`
	First   time.Time      `json:"first_seen"`
	Chain   []string       `json:"process_chain"`
	Example events.Event   `json:"example"`
}

// reportInput is what Run knows of a run when it ends.
type reportInput struct {
	plan    *Plan
	opts    RunOptions
	runID   string
	start   time.Time
	code    int
	status  int
	outcome *platform.Outcome
	log     *events.Log
}

func buildReport(in reportInput) *Report {
	pol := in.plan.Policy
	r := &Report{
		SchemaVersion: ReportSchemaVersion,
		Version:       in.opts.Version,
		RunID:         in.runID,
		Command:       in.plan.Command,
		Profile:       ReportProfile{Name: pol.Name, Source: in.plan.Source},
		Mode:          string(pol.Mode),
		Trace:         in.opts.Trace,
		Layers:        []ReportLayer{},
		Start:         in.start.UTC().Truncate(time.Millisecond),
		Duration:      time.Since(in.start).Seconds(),
		Exit:          ReportExit{Code: in.code, Agentrun: in.status},
		Denials:       []ReportGroup{},
	}
	if r.Version == "" {
		r.Version = "dev"
	}
	if in.code > 128 && in.code < 128+65 {
		sig := in.code - 128
		r.Exit.Signal = &sig
	}
	out := in.outcome
	layers := out.Layers
	if out.Tier != "" {
		r.Tier = &out.Tier
	} else {
		layers = in.plan.backend.Layers(pol)
	}
	for _, l := range layers {
		r.Layers = append(r.Layers, ReportLayer{Name: l.Name, State: layerState(l), Enforces: l.Enforces})
	}
	if d := in.opts.Timeout; d > 0 {
		r.Timeout = &ReportTimout{Seconds: d.Seconds(), GraceSeconds: in.opts.TimeoutGrace.Seconds(), Hit: out.TimedOut, Killed: out.Killed}
	}
	u := out.Usage
	r.Resources = ReportUsage{MemoryPeakBytes: u.MemoryPeakBytes, PidsPeak: u.PidsPeak}
	if u.CPUMicros != nil {
		s := float64(*u.CPUMicros) / 1e6
		r.Resources.CPUSeconds = &s
	}
	if u.UnknownWhy != "" {
		r.Resources.UnknownWhy = &u.UnknownWhy
	} else if out.Tier == "" {
		why := "the run did not start"
		r.Resources.UnknownWhy = &why
	}
	c := in.log.VerdictCounts()
	r.Events = ReportCounts{Allowed: c[events.Allowed], Denied: c[events.Denied], WouldDeny: c[events.WouldDeny], Uncounted: in.log.Uncounted()}
	for _, g := range in.log.Groups() {
		chain := g.First.Chain
		if chain == nil {
			chain = []string{}
		}
		r.Denials = append(r.Denials, ReportGroup{Verdict: g.Verdict, Kind: g.Kind, Op: g.Op, Target: g.Target, Rule: g.Rule, Count: g.Count,
			First: g.First.Time.UTC(), Chain: chain, Example: g.First})
	}
	return r
}

// checkReportPath refuses, before the agent runs, a report path whose directory does not exist
// or that names a directory: the report is written only when the run ends, and a typo found
// then would lose it. It looks with the rights the report is written with (writeReport).
func checkReportPath(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	return asInvoker(func() error {
		dir, err := os.Stat(filepath.Dir(abs))
		switch {
		case err != nil:
			return fmt.Errorf("--report %s: %w; name a file in an existing directory, or - for stdout", path, err)
		case !dir.IsDir():
			return fmt.Errorf("--report %s: %s is not a directory; name a file in an existing directory, or - for stdout", path, filepath.Dir(abs))
		}
		fi, err := os.Stat(abs)
		switch {
		case err != nil:
			return nil // made when the run ends
		case fi.IsDir():
			return fmt.Errorf("--report %s is a directory; name a file (it is replaced when the run ends), or - for stdout", path)
		case !fi.Mode().IsRegular():
			// The report replaces the file it names: never a device (as root, --report
			// /dev/full made /dev/full a file), a pipe or a socket, nor a link to one
			// (/dev/stdout).
			return fmt.Errorf("--report %s is not a regular file (a device, a pipe or a socket, or a link to one), and the report replaces the file it names when the run ends; name a regular file, or - for stdout", path)
		}
		return nil
	})
}

// writeReport writes r to path ("-": to w) as indented JSON, atomically (a new file beside
// it renamed over it) and, when agentrun runs as root for another user, as that user.
func writeReport(r *Report, path string, w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err := w.Write(b)
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	id := userdirs.Current().FileIdentity()
	root, err := safefs.OpenRoot(filepath.Dir(abs))
	if errors.Is(err, safefs.ErrUnsupported) {
		return writeFileAtomic(abs, b)
	}
	if err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	defer root.Close()
	if err := root.WriteFile(filepath.Base(abs), b, 0o644, id); err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic is writeReport's way where safefs has no primitives.
func writeFileAtomic(path string, b []byte) error {
	if err := safefs.ReplaceFile(path, b, 0o600, -1, -1); err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	return nil
}

// maxReportSize bounds a report agentrun reads (learn --from): a run's report holds its
// denials, a few hundred bytes each, and a flood of them is recorded as counts.
const maxReportSize = 256 << 20

// ReadReport reads a report file that agentrun --report wrote.
func ReadReport(path string) (*Report, error) {
	b, err := profiles.ReadFileBounded(path, maxReportSize)
	if err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading the report %s: %w (is it a file agentrun --report wrote?)", path, err)
	}
	if r.SchemaVersion < 1 || r.SchemaVersion > ReportSchemaVersion {
		return nil, fmt.Errorf("reading the report %s: schema_version %d; this agentrun reads version %d (agentrun version)", path, r.SchemaVersion, ReportSchemaVersion)
	}
	return &r, nil
}
