package cli

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
	"github.com/agentrun/agentrun/platform/darwin/mdm"
)

// The compile targets for a Mac's management tools. Like kubernetes they are not one of the
// backend's targets: pure compilers, available from any host, resolving the profile for a
// macOS home rather than this host's.
const (
	targetSanta = "santa"
	targetTCC   = "tcc"
)

var mdmFlags = []cli.Flag{
	&cli.StringFlag{Name: "home", Usage: "santa, tcc: the macOS home `DIR` to compile for (default: " + mdm.AnyHome + ", every user's)"},
	&cli.BoolFlag{Name: "from-events", Usage: "santa: write santactl rule JSON for the programs the profile's runs executed, from the event store; applocker, wdac: allow them too"},
	&cli.StringFlag{Name: "since", Value: "7d", Usage: "--from-events: events since `WHEN` (a duration such as 7d, or a date)"},
	&cli.StringSliceFlag{Name: "terminal", Usage: "tcc: a terminal's bundle `ID` to deny (repeat; default: com.apple.Terminal and com.googlecode.iterm2)"},
	&cli.StringSliceFlag{Name: "runtime", Usage: "tcc: a program `PATH[=REQUIREMENT]` to deny, such as the node binary (repeat)"},
}

// mdmTarget reports whether name is a target compileMDM writes.
func mdmTarget(name string) bool { return name == targetSanta || name == targetTCC }

// compileMDM writes the santa or tcc target to stdout and its notes to stderr.
func compileMDM(c *cli.Context) error {
	cat, e, err := namedProfile(c)
	if err != nil {
		return err
	}
	home := c.String("home")
	if home != "" && !strings.HasPrefix(home, "/") {
		return usageError("write the Mac's home directory, such as /Users/ada", "--home %q is not an absolute path", home)
	}
	pol, err := cat.Resolve(e, mdm.Env(home, c.String("workspace")))
	if err != nil {
		return err
	}
	var out []byte
	var notes []string
	switch {
	case c.String("target") == targetTCC:
		o := mdm.TCCOptions{Home: home}
		for _, t := range c.StringSlice("terminal") {
			o.Apps = append(o.Apps, mdm.Terminal(t))
		}
		for _, r := range c.StringSlice("runtime") {
			p, req, _ := strings.Cut(r, "=")
			o.Apps = append(o.Apps, mdm.Runtime(p, req))
		}
		res, err := mdm.CompileTCC(pol, o)
		if err != nil {
			return err
		}
		out, notes = res.Mobileconfig, res.Notes
	case c.Bool("from-events"):
		since, err := sinceFlag(c)
		if err != nil {
			return err
		}
		exes, err := executedPrograms(e.Name(), since)
		if err != nil {
			return err
		}
		o := mdm.RulesOptions{}
		if runtime.GOOS == "darwin" {
			o.Hash = mdm.HashFile // the programs ran here: hash them as Santa will
		}
		res, err := mdm.CompileRules(pol, exes, o)
		if err != nil {
			return err
		}
		out, notes = res.JSON, res.Notes
		if len(res.Unhashed) > 0 {
			notes = append(notes, fmt.Sprintf("%d programs have no rule in the JSON: they were not hashed here (compile on the Mac that ran them), so make their rules on that Mac with:", len(res.Unhashed)))
			for _, u := range res.Unhashed {
				notes = append(notes, "  "+u)
			}
		}
	default:
		res, err := mdm.CompileSanta(pol, mdm.SantaOptions{Home: home})
		if err != nil {
			return err
		}
		out, notes = res.Plist, res.Notes
	}
	for _, n := range notes {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: note: %s\n", display.Escape(n))
	}
	_, err = c.App.Writer.Write(out)
	return err
}

// executedPrograms are the programs the profile's runs executed since then: the targets of
// exec events that ran (allowed, or allowed in audit mode) and the executables of every
// event, counted. An exec that was denied did not run and is not one of them.
func executedPrograms(profile string, since time.Time) ([]mdm.Executable, error) {
	st, err := store.OpenUser()
	if err != nil {
		return nil, err
	}
	aggs, err := st.Aggregates(store.Filter{Profile: profile, Since: since})
	st.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the event store: %w", err)
	}
	return programsOf(aggs), nil
}

// programsOf counts the programs that aggs show running: exec events that were not denied,
// and the acting executable of any event (counted once if it was never exec'd itself).
func programsOf(aggs []store.Aggregate) []mdm.Executable {
	count := map[string]int64{}
	for _, a := range aggs {
		if a.Kind == events.KindExec && a.Verdict != events.Denied && a.Target != "" {
			count[a.Target] += a.Count
		}
	}
	for _, a := range aggs {
		if a.Exe != "" && count[a.Exe] == 0 {
			count[a.Exe] = 1
		}
	}
	out := make([]mdm.Executable, 0, len(count))
	for p, n := range count {
		out = append(out, mdm.Executable{Path: p, Count: n})
	}
	return out
}
