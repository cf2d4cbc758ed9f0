package launcher

import (
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// absentNotes collects the paths the agent reached for that no filesystem rule names: in
// enforce mode they are absent in the sandbox (the home directory shows only the paths
// profiles name), so a tool fails with "No such file or directory" and nothing else says
// why. The end-of-run summary names them, grouped by directory, and the fix.
type absentNotes struct {
	mu     sync.Mutex
	paths  map[string]*absentPath // at most maxAbsentPaths
	others int                    // events past that
}

type absentPath struct {
	count   int
	written bool // the agent wrote, created or removed there: a write rule is the fix
}

// maxAbsentPaths bounds what the summary keeps, whatever the agent probes.
const maxAbsentPaths = 1000

// Record keeps file accesses denied, or that would be, because no filesystem rule covers
// the path; it is an events.Sink.
func (a *absentNotes) Record(e events.Event) {
	if e.Kind != events.KindFile || e.Reason != profiles.ReasonNotCovered || (e.Verdict != events.Denied && e.Verdict != events.WouldDeny) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.paths == nil {
		a.paths = map[string]*absentPath{}
	}
	p, ok := a.paths[e.Path]
	if !ok {
		if len(a.paths) >= maxAbsentPaths {
			a.others++
			return
		}
		p = &absentPath{}
		a.paths[e.Path] = p
	}
	p.count++
	p.written = p.written || e.Op != "read"
}

// empty reports whether no such path was reached.
func (a *absentNotes) empty() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.paths) == 0
}

// absentGroup is the paths of one directory, or one path.
type absentGroup struct {
	dir     string   // the directory they share, or the one path
	paths   []string // sorted
	count   int      // events
	written bool
	denied  bool     // a deny rule lies in dir or covers it: the fix names the paths, not dir
	open    []string // the paths no deny rule covers, which a rule may name
}

// fix is what a rule must name for the group: the one path, or the directory of several;
// when a deny rule lies in the directory, the paths no deny rule covers (up to three).
// Nothing a deny rule covers is ever proposed.
func (g absentGroup) fix() []string {
	switch {
	case len(g.paths) == 1 || len(g.open) == 0:
		return g.open
	case !g.denied:
		return []string{g.dir}
	case len(g.open) > 3:
		return g.open[:3]
	}
	return g.open
}

// shown is the group as the summary names it: its one path, or its directory, how many
// paths and one of them.
func (g absentGroup) shown(show func(string) string) string {
	if len(g.paths) == 1 {
		return show(g.paths[0])
	}
	return fmt.Sprintf("%s/ (%d paths, e.g. %s)", show(g.dir), len(g.paths), show(g.paths[0]))
}

// broadHomeDirs hold every program's data: paths in them are grouped one level deeper.
var broadHomeDirs = []string{".config", ".cache", ".local/share", ".local/state", ".local"}

// groupKey is the directory p is shown under: in the home directory its first element, or
// in a directory of every program's data (~/.config, ~/.cache, ~/.local/…) the program's;
// elsewhere the first two elements (/opt/tool). A path no deeper than that is its own key.
func groupKey(p, home string) string {
	depth, base := 2, "/"
	if home != "" && home != "/" && profiles.Within(p, home) && p != home {
		base, depth = home, 1
		rel := p[len(home)+1:]
		for _, b := range broadHomeDirs {
			if strings.HasPrefix(rel, b+"/") {
				depth = strings.Count(b, "/") + 2
				break
			}
		}
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, base), "/")
	parts := strings.Split(rel, "/")
	if len(parts) <= depth {
		return p
	}
	return path.Join(base, strings.Join(parts[:depth], "/"))
}

// groups are the paths grouped by groupKey, most events first.
func (a *absentNotes) groups(home string, deny []profiles.PathRule) []absentGroup {
	byKey := map[string]*absentGroup{}
	for p, ap := range a.paths {
		k := groupKey(p, home)
		g := byKey[k]
		if g == nil {
			g = &absentGroup{dir: k}
			byKey[k] = g
		}
		g.paths = append(g.paths, p)
		g.count += ap.count
		g.written = g.written || ap.written
	}
	out := make([]absentGroup, 0, len(byKey))
	for _, g := range byKey {
		sort.Strings(g.paths)
		for _, d := range deny {
			g.denied = g.denied || profiles.PatternCovers(d.Path, g.dir) || profiles.Within(profiles.GlobBase(d.Path), g.dir)
		}
		for _, p := range g.paths {
			if !slices.ContainsFunc(deny, func(d profiles.PathRule) bool { return profiles.PatternCovers(d.Path, p) }) {
				g.open = append(g.open, p)
			}
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].dir < out[j].dir
	})
	return out
}

// absentFix is how the user lets the agent see what it missed: the learn command for this
// run's profile ("" when the run's events are not stored), and where a rule goes.
type absentFix struct {
	learn string // "agentrun learn claude"
	// deny are the built-in profiles' deny rules: what they deny is never proposed, whatever
	// this profile says (as learn refuses it).
	deny []profiles.PathRule
	// where is the profile to add a rule to: "a profile of yours that extends: [claude]", or a
	// file of the user's.
	where string
}

// maxAbsentGroups is how many groups the summary names one by one.
const maxAbsentGroups = 4

// lines are the summary's sentences: in enforce mode, a header, a line per group (at most
// maxAbsentGroups, then how many more) and the fix; in audit mode (would-deny), one line
// with the learn command. None when no such path was reached.
func (a *absentNotes) lines(pol *profiles.Policy, home string, fix absentFix) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.paths) == 0 {
		return nil
	}
	groups := a.groups(home, append(slices.Clip(pol.Filesystem.Deny), fix.deny...))
	show := func(p string) string { return display.Escape(homeSpelling(p, home)) }
	n := len(a.paths)
	more := ""
	if a.others > 0 {
		more = "at least "
	}
	inHome := ""
	for p := range a.paths {
		if home != "" && home != "/" && profiles.Within(p, home) {
			inHome = " (the home directory shows only the paths profiles name)"
			break
		}
	}
	if pol.Mode == profiles.ModeAudit {
		names := make([]string, 0, maxAbsentGroups)
		for i, g := range groups {
			if i == maxAbsentGroups {
				names = append(names, "…")
				break
			}
			names = append(names, g.shown(show))
		}
		s := fmt.Sprintf("%s%d %s no filesystem rule names would be absent in enforce mode%s: %s", more, n, plural(n, "path", "paths"), inHome, strings.Join(names, ", "))
		if fix.learn != "" {
			s += "; `" + fix.learn + "` proposes rules for them"
		}
		return []string{s}
	}
	out := []string{fmt.Sprintf("%s%d %s the agent reached for %s not in the sandbox: no filesystem rule names %s%s", more, n, plural(n, "path", "paths"), plural(n, "is", "are"), plural(n, "it", "them"), inHome)}
	var reads, writes []string
	for i, g := range groups {
		if i < maxAbsentGroups {
			out = append(out, "  "+g.shown(show))
		} else if i == maxAbsentGroups {
			out = append(out, fmt.Sprintf("  and %d more directories (agentrun log lists them)", len(groups)-i))
		}
		for _, p := range g.fix() {
			item := yamlItem(homeSpelling(p, home))
			if g.written {
				writes = append(writes, item)
			} else {
				reads = append(reads, item)
			}
		}
	}
	secrets := 0
	for _, g := range groups {
		secrets += len(g.paths) - len(g.open)
	}
	left := ""
	if secrets > 0 {
		left = fmt.Sprintf(" (%d %s a profile denies as %s not proposed)", secrets, plural(secrets, "path", "paths"), plural(secrets, "a secret is", "secrets are"))
	}
	if len(reads)+len(writes) == 0 {
		return append(out, fmt.Sprintf("a profile denies %s as %s: agentrun never proposes a rule for %s", plural(n, "it", "them"), plural(n, "a secret", "secrets"), plural(n, "it", "them")))
	}
	var rule []string
	if len(reads) > 0 {
		rule = append(rule, "read: ["+strings.Join(capItems(reads), ", ")+"]")
	}
	if len(writes) > 0 {
		rule = append(rule, "write: ["+strings.Join(capItems(writes), ", ")+"]")
	}
	line := "if the agent needs " + plural(n, "it", "them") + ", "
	if fix.learn != "" {
		line += "`" + fix.learn + "` proposes rules from this run, or "
	}
	out = append(out, line+"add `filesystem: {"+display.Escape(strings.Join(rule, ", "))+"}` to "+fix.where+left)
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// capItems keeps the first few rule items of a long list: the summary stays a few lines.
func capItems(items []string) []string {
	if len(items) > 2*maxAbsentGroups {
		return append(items[:2*maxAbsentGroups:2*maxAbsentGroups], "…")
	}
	return items
}

// home is the home directory as the policy's paths spell it (canonical).
func (p *Plan) home() string {
	h := p.env.Home
	if p.env.Canonical != nil && h != "" {
		h = p.env.Canonical(h)
	}
	return h
}

// absentFix is the fix the summary offers for this plan's profile; learn only when the
// run's events are stored, since learn reads them there.
func (p *Plan) absentFix(stored bool) absentFix {
	var f absentFix
	arg := p.Policy.Name
	if p.layer == profiles.LayerFile {
		arg = p.Source
	}
	if stored {
		cmd := []string{"agentrun", "learn", arg}
		if cwd, err := os.Getwd(); err != nil || cwd != p.Workspace {
			cmd = append(cmd, "--workspace", p.Workspace)
		}
		f.learn = strings.Join(quoteArgs(cmd), " ")
	}
	if g, err := BuiltinGuards(p.env); err == nil {
		f.deny = g.Deny
	}
	if p.layer == profiles.LayerBuiltin {
		f.where = "a profile of yours with `extends: [" + p.Policy.Name + "]`"
	} else {
		f.where = display.Escape(p.Source)
	}
	return f
}

// unrecordedFiles is, after a failed run in enforce mode, what agentrun could not see of it
// and how to see it: where the host records no file accesses, that the paths the profile does
// not name are not listed; without trace where the kernel's refusals cannot be read (no read
// waits for agentrun in enforce mode), that neither those paths nor any denied read was
// recorded (platform.NoDenialRecords). "" when nothing was missed.
func (p *Plan) unrecordedFiles(trace bool) string {
	show := "agentrun profiles show " + p.Policy.Name + " --resolved"
	denials := true
	for _, l := range p.backend.Layers(p.Policy) {
		switch {
		case l.Name == platform.LayerFileEvents && !l.Available:
			return "this host records no file accesses (the " + platform.LayerFileEvents + " layer is missing: " + l.Fix + "), so the paths the profile does not name, which the agent cannot reach, are not listed here; if the command failed on a missing file, run it with --mode audit where that layer works to see them, or " + show + " for what the profile names"
		case l.Name == platform.LayerDenials && l.Needed && !l.Available:
			denials = false
		}
	}
	if trace || denials {
		return ""
	}
	return platform.NoDenialRecords + " (agentrun as root records them), nor are the paths the profile does not name, which the agent cannot reach: if the command failed on a missing file, run it again with --mode audit or --trace to see them, or " + show + " for what the profile names"
}
