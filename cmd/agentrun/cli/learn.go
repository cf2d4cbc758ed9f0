package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/events/store"
	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/safefs"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/learn"
	"github.com/agentrun/agentrun/userdirs"
)

func learnCommand(b platform.Backend) *cli.Command {
	return &cli.Command{
		Name:      "learn",
		Usage:     "propose rules for a profile from what its runs were denied, review them, and write them",
		ArgsUsage: "PROFILE",
		Description: `learn reads the event store for the profile's denials and would-be denials (audit
mode), groups them into rules (a directory for many files, a parent for versioned cache
paths, read-only where only reads were seen) and asks, rule by rule, whether to add it:
[a]ccept, [s]kip, [e]dit the entry, [q]uit. It then shows the change as a diff and writes
it. Secrets and cloud metadata are never proposed: a deny always wins. Nor is write access
to system directories (/usr, /etc, /opt, /var, …), where programs run from (exec.allow),
git's control files, anything a built-in profile protects (shell start-up files, autostart,
systemd, cron, agents' settings) or agentrun's own files: those are listed as left denied,
with the reason. A rule for a directory that holds another built-in profile's secret or
protected file is proposed with that deny or protect rule ("keeps denied: …"), which
accepting it adds to the profile too. A rule that lets the agent write outside the workspace needs a second
"yes" in the review, and --allow-write-outside-workspace with --yes.

A built-in profile is not changed: its rules go to a profile of yours with the same name
that extends it, in ~/.config/agentrun/profiles.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "since", Value: "14d", Usage: "learn from events since `WHEN`: a duration such as 14d or 36h, or a date"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "accept every proposed rule without asking (but those writing outside the workspace)"},
			&cli.BoolFlag{Name: "allow-write-outside-workspace", Usage: "with --yes, accept rules that let the agent write outside the workspace too"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the proposed change as a diff and write nothing"},
			&cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Usage: "`DIR` that was $WORKSPACE in the runs (default: the current directory)"},
			fromFlag("learn from that run's denials"),
		},
		Action:       func(c *cli.Context) error { return learnAction(c, b) },
		BashComplete: completeProfileNames,
	}
}

func learnAction(c *cli.Context, b platform.Backend) error {
	cat, e, err := namedProfile(c)
	if err != nil {
		return err
	}
	since, err := sinceFlag(c)
	if err != nil {
		return err
	}
	env, err := profiles.EnvFromOS(userdirs.CurrentDirs(), c.String("workspace"))
	if err != nil {
		return err
	}
	pol, err := cat.Resolve(e, env)
	if err != nil {
		return err
	}
	launcher.AddLaunchRules(pol, env, b) // agentrun's own files are denied: never learned
	guards, err := launcher.BuiltinGuards(env)
	if err != nil {
		return err
	}
	path, src, err := learnTarget(e)
	if err != nil {
		return err
	}
	var obs []learn.Observation
	learnedFrom := "since " + since.Local().Format("2006-01-02 15:04")
	if from := c.String("from"); from != "" {
		learnedFrom = "in " + display.Escape(from)
		obs, err = reportObservations(c.App.Writer, from, e.Name())
	} else {
		obs, err = storeObservations(c.App.Writer, e.Name(), since)
	}
	if err != nil {
		return err
	}
	rules, refused := learn.Propose(pol, obs, learn.Options{Home: env.Home, Workspace: env.Workspace, TmpDir: env.TmpDir, Guards: guards})
	w := c.App.Writer
	for _, r := range refused {
		fmt.Fprintf(w, "left denied: %s (×%d): %s\n", display.Escape(r.Target), r.Count, display.Escape(r.Why))
	}
	if len(rules) == 0 {
		fmt.Fprintf(w, "%s: nothing to learn from %d groups of events %s\n", e.Name(), len(obs), learnedFrom)
		return nil
	}
	if c.Bool("yes") || c.Bool("dry-run") {
		for i, r := range rules {
			describeRule(w, i, len(rules), r)
		}
		if c.Bool("yes") && !c.Bool("allow-write-outside-workspace") {
			rules = slices.DeleteFunc(rules, func(r learn.Rule) bool {
				if r.OutsideWorkspace() {
					fmt.Fprintf(w, "not accepted: %s %s lets the agent write outside the workspace; accept it in the review (without --yes), or pass --allow-write-outside-workspace\n", r.Section, display.Escape(r.Entry))
					return true
				}
				return false
			})
			if len(rules) == 0 {
				fmt.Fprintln(w, "no rule accepted; nothing written")
				return nil
			}
		}
	} else {
		if rules, err = reviewRules(bufio.NewReader(c.App.Reader), w, rules); err != nil {
			return err
		}
		if len(rules) == 0 {
			fmt.Fprintln(w, "no rule accepted; nothing written")
			return nil
		}
	}
	out, err := learn.Apply(src, rules)
	if errors.Is(err, learn.ErrNetworkNone) {
		// The profile means to have no network: keep it so, and say what is not learned.
		fmt.Fprintf(w, "not learned: %v; remove it to learn the hosts\n", err)
		rules = slices.DeleteFunc(rules, func(r learn.Rule) bool { return strings.HasPrefix(r.Section, "network.") })
		out, err = learn.Apply(src, rules)
	}
	if err != nil {
		return fmt.Errorf("adding the rules to %s: %w", path, err)
	}
	fmt.Fprint(w, escapeLines(learn.Diff(path, path, src, out)))
	if c.Bool("dry-run") {
		return nil
	}
	if err := checkLearned(cat, path, out, env); err != nil {
		return err
	}
	if err := writeAtomically(path, out); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %d rules; run the agent again (agentrun report %s says when it is ready for enforce mode)\n", path, len(rules), e.Name())
	return nil
}

// learnTarget is the file learn writes and its current text: the profile's own file, or for
// a built-in profile a new one of the user's that extends it.
func learnTarget(e *profiles.Entry) (string, []byte, error) {
	if e.Layer != profiles.LayerBuiltin {
		src, err := profiles.ReadFileBounded(e.File.Source, profiles.MaxFileSize)
		return e.File.Source, src, err
	}
	dir := userdirs.CurrentDirs().ProfilesDir()
	if dir == "" {
		return "", nil, fmt.Errorf("no directory for your profiles: set HOME or XDG_CONFIG_HOME")
	}
	name := e.Name()
	src := fmt.Sprintf("# Learned by agentrun learn: the built-in %s profile and what its runs needed.\nname: %s\nextends: [%s]\n", name, name, name)
	return filepath.Join(dir, name+".yaml"), []byte(src), nil
}

// reviewRules asks about each rule: accept, skip, edit its entry, or quit (keeping the
// answers so far). An edited rule keeps all its Keeps, inside the new entry or not: each is
// a built-in profile's deny or protect rule, which does no harm where the entry does not
// reach, and the user's own entry is not checked against the guards again.
func reviewRules(in *bufio.Reader, w io.Writer, rules []learn.Rule) ([]learn.Rule, error) {
	var kept []learn.Rule
	for i, r := range rules {
		describeRule(w, i, len(rules), r)
		for {
			fmt.Fprint(w, "      [a]ccept, [s]kip, [e]dit, [q]uit? ")
			line, err := in.ReadString('\n')
			answer := strings.ToLower(strings.TrimSpace(line))
			if err != nil && answer == "" {
				return nil, fmt.Errorf("no answer (standard input ended); use --yes to accept every rule")
			}
			switch answer {
			case "a", "accept", "y", "yes":
				if r.OutsideWorkspace() && !confirmOutside(in, w, r) {
					fmt.Fprintln(w, "      skipped")
					break
				}
				kept = append(kept, r)
			case "s", "skip", "n", "no":
			case "q", "quit":
				return kept, nil
			case "e", "edit":
				fmt.Fprintf(w, "      %s entry: ", r.Section)
				entry, _ := in.ReadString('\n')
				if entry = strings.TrimSpace(entry); entry != "" {
					r.Entry = entry
					if r.OutsideWorkspace() && !confirmOutside(in, w, r) {
						fmt.Fprintln(w, "      skipped")
						break
					}
					kept = append(kept, r)
				}
			default:
				continue
			}
			break
		}
	}
	return kept, nil
}

// confirmOutside asks again before a rule lets the agent write outside the workspace: only
// "yes" accepts it.
func confirmOutside(in *bufio.Reader, w io.Writer, r learn.Rule) bool {
	fmt.Fprintf(w, "      %s %s lets the agent write outside the workspace, where what it leaves can run\n      outside the sandbox later; type yes to accept it: ", r.Section, display.Escape(r.Entry))
	line, _ := in.ReadString('\n')
	return strings.ToLower(strings.TrimSpace(line)) == "yes"
}

// describeRule shows a proposed rule: where it goes, how many events it covers, which, and
// an example with the process that did it. What comes from the agent is escaped.
func describeRule(w io.Writer, i, n int, r learn.Rule) {
	fmt.Fprintf(w, "\n[%d/%d] %s: %s   (%d events", i+1, n, r.Section, display.Escape(r.Entry), r.Count)
	if len(r.Covers) > 0 {
		covers := make([]string, len(r.Covers))
		for i, c := range r.Covers {
			covers[i] = display.Escape(c)
		}
		fmt.Fprintf(w, ": %s", strings.Join(covers, ", "))
	}
	fmt.Fprintln(w, ")")
	if r.OutsideWorkspace() {
		fmt.Fprintln(w, "      outside the workspace: accepting it asks again")
	}
	if ex := r.Example; ex.Process != "" {
		fmt.Fprintf(w, "      e.g. %s %s by %s\n", display.Escape(ex.Op), display.Escape(ex.Target()), display.Escape(ex.Process))
	}
	for _, k := range r.Keeps {
		fmt.Fprintf(w, "      keeps %s: %s (%s)\n", keptWord[k.Section], display.Escape(k.Entry), display.Escape(k.Why))
	}
}

// keptWord says what a kept rule of each section does to its path.
var keptWord = map[string]string{learn.SectionDeny: "denied", learn.SectionProtect: "protected"}

// escapeLines escapes each line of text (a diff of the profile, whose new entries come from
// the agent), keeping the line breaks.
func escapeLines(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		body, nl := strings.CutSuffix(l, "\n")
		lines[i] = display.Escape(body)
		if nl {
			lines[i] += "\n"
		}
	}
	return strings.Join(lines, "")
}

// checkLearned makes sure the new text is a valid profile before it replaces the old one.
func checkLearned(cat *profiles.Catalog, path string, text []byte, env profiles.Env) error {
	f, err := profiles.Parse(path, text)
	if err != nil {
		return fmt.Errorf("the learned profile would not load (nothing written): %w", err)
	}
	if _, err := cat.Resolve(&profiles.Entry{File: f, Layer: profiles.LayerFile}, env); err != nil {
		return fmt.Errorf("the learned profile would not resolve (nothing written): %w", err)
	}
	return nil
}

// writeAtomically replaces path with data through a temporary file in the same directory,
// keeping the old file's mode. The file is written beneath its directory held open, never
// through a link at its name, and under sudo with the invoking user's file-system identity,
// so the file is theirs and root's rights are never used on their paths.
func writeAtomically(path string, data []byte) error {
	id := userdirs.Current().FileIdentity()
	dir := filepath.Dir(path)
	if err := safefs.AsUser(id, func() error { return os.MkdirAll(dir, 0o755) }); err != nil {
		return err
	}
	root, err := safefs.OpenRoot(dir)
	if errors.Is(err, safefs.ErrUnsupported) {
		return writeAtomicallyPlain(path, data)
	}
	if err != nil {
		return err
	}
	defer root.Close()
	return root.WriteFile(filepath.Base(path), data, 0o644, id)
}

// writeAtomicallyPlain is writeAtomically where safefs is not supported.
func writeAtomicallyPlain(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return safefs.ReplaceFile(path, data, mode, -1, -1)
}

// storeObservations are the profile's denials in the event store since since, as learn reads
// them.
func storeObservations(w io.Writer, profile string, since time.Time) ([]learn.Observation, error) {
	st, err := store.OpenUser()
	if err != nil {
		return nil, err
	}
	aggs, err := st.Aggregates(store.Filter{Profile: profile, Since: since, Verdicts: []events.Verdict{events.Denied, events.WouldDeny}})
	var over []store.Overflow
	if err == nil {
		over, err = st.Overflow(store.Filter{Profile: profile, Since: since, Verdicts: []events.Verdict{events.Denied, events.WouldDeny}})
	}
	st.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the event store: %w", err)
	}
	var overN int64
	for _, o := range over {
		overN += o.Count
	}
	if overN > 0 {
		fmt.Fprintf(w, "not learned: %d accesses counted without their targets, past the store's cap of groups per run or per profile\n", overN)
	}
	obs := make([]learn.Observation, 0, len(aggs))
	for _, a := range aggs {
		obs = append(obs, learn.Observation{Kind: a.Kind, Op: a.Op, Target: a.Target, Count: a.Count, Example: a.Example})
	}
	return obs, nil
}
