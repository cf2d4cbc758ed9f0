package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
)

func logCommand() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "list the recorded events: what was denied, what audit mode would have denied",
		Description: `Events are kept in $XDG_STATE_HOME/agentrun/events.db (default
~/.local/state/agentrun): every denial, every would-be denial of audit mode, and with
--trace every access.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "profile", Aliases: []string{"p"}, Usage: "only events of profile `NAME`"},
			&cli.StringFlag{Name: "run", Usage: "only events of run `ID` (as printed at the end of a run)"},
			&cli.StringSliceFlag{Name: "verdict", Usage: "only events with `VERDICT`: denied, would-deny or allowed (repeat or separate with commas)"},
			&cli.StringFlag{Name: "since", Usage: "only events since `WHEN`: a duration such as 14d, 36h, 30m, or a date (2026-11-01, RFC 3339)"},
			&cli.IntFlag{Name: "limit", Value: 200, Usage: "show the newest `N` events; 0 for all"},
			&cli.BoolFlag{Name: "json", Usage: "print the events as JSON lines"},
			fromFlag("the first event of each group of denials it holds"),
		},
		Action: logAction,
	}
}

func logAction(c *cli.Context) error {
	if err := noArguments(c, "filter with --profile, --run, --verdict and --since"); err != nil {
		return err
	}
	f, err := eventFilter(c)
	if err != nil {
		return err
	}
	var evs []events.Event
	if from := c.String("from"); from != "" {
		evs, err = logFromFile(c, from)
	} else {
		evs, err = storeEvents(f)
	}
	if err != nil {
		return err
	}
	if n := c.Int("limit"); n > 0 && len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		for _, e := range evs {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(evs) == 0 {
		fmt.Fprintln(c.App.ErrWriter, "agentrun: no events match")
		return nil
	}
	for _, e := range evs {
		printEvent(c.App.Writer, e)
	}
	return nil
}

// printEvent writes one event for people: a headline, then its rule, reason and process chain.
// Every string from the event goes through display.Escape: paths, names and command lines
// are the agent's.
func printEvent(w io.Writer, e events.Event) {
	what := string(e.Kind)
	if e.Op != "" {
		what += " " + e.Op
	}
	fmt.Fprintf(w, "%s  %-10s  %s %s  [%s, run %s]\n", e.Time.Local().Format("2006-01-02 15:04:05"), display.Escape(string(e.Verdict)),
		display.Escape(what), display.Escape(e.Target()), display.Escape(e.Profile), display.Escape(e.RunID))
	if e.Rule != "" {
		fmt.Fprintf(w, "    rule     %s\n", display.Escape(e.Rule))
	}
	if e.Reason != "" {
		fmt.Fprintf(w, "    reason   %s\n", display.Escape(e.Reason))
	}
	if len(e.Chain) > 0 {
		fmt.Fprintf(w, "    process  %s\n", escapeChain(e.Chain))
	} else if e.Process != "" {
		fmt.Fprintf(w, "    process  %s\n", display.Escape(e.Process))
	}
}

// escapeChain writes a process chain, innermost first, each command line escaped.
func escapeChain(chain []string) string {
	parts := make([]string, len(chain))
	for i, c := range chain {
		parts[i] = display.Escape(c)
	}
	return strings.Join(parts, " ← ")
}

func eventFilter(c *cli.Context) (store.Filter, error) {
	f := store.Filter{Profile: c.String("profile"), RunID: c.String("run")}
	for _, v := range c.StringSlice("verdict") {
		for _, v := range strings.Split(v, ",") {
			switch vd := events.Verdict(strings.TrimSpace(v)); vd {
			case events.Denied, events.WouldDeny, events.Allowed:
				f.Verdicts = append(f.Verdicts, vd)
			default:
				return f, usageError("write --verdict denied, would-deny or allowed", "--verdict %q is not a verdict", v)
			}
		}
	}
	if s := c.String("since"); s != "" {
		t, err := parseSince(s, time.Now())
		if err != nil {
			return f, usageError("write a duration such as 14d, 36h or 30m, or a date such as 2026-11-01", "--since %q: %v", s, err)
		}
		f.Since = t
	}
	return f, nil
}

// parseSince reads a point in time: a duration back from now (Go's units, plus d for days and
// w for weeks), a date, or an RFC 3339 time.
// sinceFlag is the --since flag's time, or a usage error naming the forms it takes.
func sinceFlag(c *cli.Context) (time.Time, error) {
	since, err := parseSince(c.String("since"), time.Now())
	if err != nil {
		return time.Time{}, usageError("write a duration such as 14d, 36h or 30m, or a date such as 2026-11-01", "--since %q: %v", c.String("since"), err)
	}
	return since, nil
}

func parseSince(s string, now time.Time) (time.Time, error) {
	for unit, d := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return time.Time{}, fmt.Errorf("not a number of %s", map[string]string{"d": "days", "w": "weeks"}[unit])
			}
			return now.Add(-time.Duration(v * float64(d))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("a negative duration")
		}
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("neither a duration nor a date")
}

// storeEvents are the events of the event store that f selects.
func storeEvents(f store.Filter) ([]events.Event, error) {
	st, err := store.OpenUser()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	evs, err := st.Events(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.Path(), err)
	}
	return evs, nil
}
