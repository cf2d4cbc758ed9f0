package cli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/profiles/learn"
)

// fromFlag is --from: read a run's report (agentrun --report) instead of the event store.
func fromFlag(what string) cli.Flag {
	return &cli.StringFlag{Name: "from", Usage: "read `REPORT`, a file agentrun --report wrote (such as a CI job's artifact), instead of the event store: " + what}
}

// reportObservations are a report's denial groups as learn reads them. A report of another
// profile is read all the same: the denials are what the command needed.
func reportObservations(w io.Writer, path, profile string) ([]learn.Observation, error) {
	r, err := launcher.ReadReport(path)
	if err != nil {
		return nil, err
	}
	if r.Profile.Name != profile {
		fmt.Fprintf(w, "note: %s is a report of a run under profile %s, not %s\n", path, display.Escape(r.Profile.Name), profile)
	}
	if r.Events.Uncounted > 0 {
		fmt.Fprintf(w, "not learned: %d accesses counted without their targets, past the run's cap of groups\n", r.Events.Uncounted)
	}
	obs := make([]learn.Observation, 0, len(r.Denials))
	for _, g := range r.Denials {
		obs = append(obs, learn.Observation{Kind: g.Kind, Op: g.Op, Target: g.Target, Count: int64(g.Count), Example: g.Example})
	}
	return obs, nil
}

// reportFromFile is agentrun report --from: whether the run in the report file had nothing
// denied, and if not, what.
func reportFromFile(c *cli.Context, path string) error {
	r, err := launcher.ReadReport(path)
	if err != nil {
		return err
	}
	w := c.App.Writer
	name := display.Escape(r.Profile.Name)
	if len(r.Denials) == 0 && r.Events.Uncounted == 0 {
		fmt.Fprintf(w, "%s: nothing denied or would-be denied in run %s (%s, %s mode, exit status %d)\n", name, display.Escape(r.RunID), r.Start.Local().Format("2006-01-02 15:04"), r.Mode, r.Exit.Code)
		return nil
	}
	n := r.Events.Uncounted
	for _, g := range r.Denials {
		n += g.Count
	}
	fmt.Fprintf(w, "%s: %d accesses in %d groups of run %s (%s) were denied or would have been:\n", name, n, len(r.Denials), display.Escape(r.RunID), r.Start.Local().Format("2006-01-02 15:04"))
	for _, g := range r.Denials {
		fmt.Fprintf(w, "  %-10s %s %s %s  ×%d\n", g.Verdict, g.Kind, display.Escape(g.Op), display.Escape(g.Target), g.Count)
		if g.Rule != "" {
			fmt.Fprintf(w, "             rule     %s\n", display.Escape(g.Rule))
		}
		if len(g.Chain) > 0 {
			fmt.Fprintf(w, "             process  %s\n", escapeChain(g.Chain))
		}
	}
	fmt.Fprintf(w, "agentrun learn %s --from %s proposes rules for these\n", name, display.Escape(path))
	return &exitError{code: 1}
}

// logFromFile is agentrun log --from: the first event of each denial group in the report.
func logFromFile(c *cli.Context, path string) ([]events.Event, error) {
	r, err := launcher.ReadReport(path)
	if err != nil {
		return nil, err
	}
	evs := make([]events.Event, 0, len(r.Denials))
	for _, g := range r.Denials {
		evs = append(evs, g.Example)
	}
	return evs, nil
}
