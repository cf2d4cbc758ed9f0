package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
	"github.com/agentrun/agentrun/profiles"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "say whether a profile is ready for enforce mode: runs in the window and none denied",
		ArgsUsage: "PROFILE",
		Description: `A profile is ready when it ran at least once in the window (--since, and never
before the profile file last changed) and nothing it ran was denied, or would have been in
audit mode. Otherwise the report lists what stands in the way; agentrun learn PROFILE
proposes the rules. Exit status 0 when ready, 1 when not.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "since", Value: "14d", Usage: "the window: a duration such as 14d or 36h, or a date"},
			fromFlag("whether that one run had nothing denied (PROFILE may then be left out)"),
		},
		Action:       reportAction,
		BashComplete: completeProfileNames,
	}
}

func reportAction(c *cli.Context) error {
	if from := c.String("from"); from != "" {
		return reportFromFile(c, from)
	}
	_, e, err := namedProfile(c)
	if err != nil {
		return err
	}
	since, err := sinceFlag(c)
	if err != nil {
		return err
	}
	name := e.Name()
	changed := profileChanged(e)
	from := since
	if changed.After(from) {
		from = changed
	}
	st, err := store.OpenUser()
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(store.Filter{Profile: name, Since: from})
	if err != nil {
		return fmt.Errorf("reading %s: %w", st.Path(), err)
	}
	blocking, err := st.Aggregates(store.Filter{Profile: name, Since: from, Verdicts: []events.Verdict{events.Denied, events.WouldDeny}})
	if err != nil {
		return fmt.Errorf("reading %s: %w", st.Path(), err)
	}
	over, err := st.Overflow(store.Filter{Profile: name, Since: from, Verdicts: []events.Verdict{events.Denied, events.WouldDeny}})
	if err != nil {
		return fmt.Errorf("reading %s: %w", st.Path(), err)
	}
	var overN int64
	for _, o := range over {
		overN += o.Count
	}
	w := c.App.Writer
	window := "since " + from.Local().Format("2006-01-02 15:04")
	if from.Equal(changed) {
		window += " (when the profile last changed)"
	}
	switch {
	case len(runs) == 0:
		fmt.Fprintf(w, "%s: not ready: no run %s; run it (in audit mode: agentrun --mode audit --profile %s -- …) and ask again\n", name, window, name)
		return &exitError{code: 1}
	case len(blocking) == 0 && overN == 0:
		fmt.Fprintf(w, "%s: ready for enforce mode: %d runs %s, nothing denied or would-be denied\n", name, len(runs), window)
		return nil
	}
	var n int64
	for _, a := range blocking {
		n += a.Count
	}
	fmt.Fprintf(w, "%s: not ready: %d accesses in %d groups %s were denied or would have been (%d runs):\n", name, n+overN, len(blocking), window, len(runs))
	for _, a := range blocking {
		fmt.Fprintf(w, "  %-10s %s %s %s  ×%d, last %s\n", a.Verdict, a.Kind, display.Escape(a.Op), display.Escape(a.Target), a.Count, a.Last.Local().Format("2006-01-02 15:04"))
		if a.Rule != "" {
			fmt.Fprintf(w, "             rule     %s\n", display.Escape(a.Rule))
		}
		if len(a.Example.Chain) > 0 {
			fmt.Fprintf(w, "             process  %s\n", escapeChain(a.Example.Chain))
		}
	}
	if overN > 0 {
		fmt.Fprintf(w, "  and %d more accesses counted without their targets: past the store's cap of groups per run or per profile (agentrun log shows a run's first events)\n", overN)
	}
	fmt.Fprintf(w, "agentrun learn %s proposes rules for these; agentrun log --profile %s shows each event\n", name, name)
	return &exitError{code: 1}
}

// profileChanged is when a profile's file last changed; zero for built-in profiles, which
// change only with agentrun.
func profileChanged(e *profiles.Entry) time.Time {
	if e.Layer == profiles.LayerBuiltin {
		return time.Time{}
	}
	fi, err := os.Stat(e.File.Source)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
