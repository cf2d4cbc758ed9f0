// Package learn proposes additions to a profile from what an agent did in audit mode, as
// AppArmor's aa-logprof does: Propose turns aggregated would-deny events into rules, Apply
// adds them to the profile's YAML text, and Diff shows the change for the user to accept.
//
// Propose follows these rules.
//
//  1. It never proposes what must stay denied. A target that a filesystem.deny or exec.deny
//     rule covers is refused, naming that rule: deny always wins and no profile can undo it.
//     So is a write inside filesystem.protect, and a network destination whose name or
//     address is cloud metadata (metadata.DeniedName, metadata.DeniedAddr). Only
//     observations whose example event was denied or would have been are considered, and a
//     file access that Policy.CheckFile already allows is skipped.
//
//  2. Read-only where only reads were seen: a path only read goes to filesystem.read; one
//     also written, created, deleted, renamed, made a directory or linked goes to
//     filesystem.write, which covers its reads. A program executed goes to exec.allow, and,
//     when the policy does not let the agent read it, its directory to filesystem.read.
//
//  3. It generalises where the next run would otherwise be denied again:
//     (a) three or more targets of one section in one directory become the directory
//     (plain DIR, which covers everything beneath it; DIR/* for exec.allow);
//     (b) a path with a version-like or hash-like element (node-v20.11.0, python3.11,
//     index-v5, a hex run of 12 or more, a run of 6 or more digits, a two-hex fan-out
//     directory such as go-build/ab, tmp.XXXXXX) is cut above that element, since those
//     names change from run to run; where that parent is too broad, the element becomes a
//     glob of its stable prefix (go-build1234/… → go-build*), as the built-in go profile
//     writes $TMPDIR/go-build*/**; a program under such an element gets DIR/**;
//     (c) a file or directory created becomes its directory, because the name will differ
//     next time;
//     (d) it never generalises to /, to a directory directly under / (/home, /etc, /usr,
//     /var, /tmp, /proc, /sys, /dev, …), to the home directory, its parent, $TMPDIR, or
//     ~/.config, ~/.cache, ~/.local, ~/.local/share, ~/.local/state (every program's
//     data), nor to a directory that a deny rule lies in: it proposes the next deeper
//     path instead, down to the target itself; a target that is itself one of those
//     directories (an agent listing / or making ~/.cache) is refused as too broad;
//     (e) a rule that another proposed rule covers is merged into it (counts summed,
//     targets merged); a write rule covers read rules beneath it.
//     An element a profile cannot spell (with * ? [ ] { } $ \, a control, format or bidi
//     character, or invalid UTF-8) is treated like a version-like one: the rule stops
//     above it.
//
//  4. Entries are written with ~ under Options.Home, $WORKSPACE under Options.Workspace and
//     $TMPDIR under Options.TmpDir, the longest match winning.
//
//  5. Network: a TCP flow becomes a network.allow entry, "name" for port 443 and
//     "name:port" otherwise (one entry per host, all its ports); a UDP flow a network.udp
//     "name:port"; a name looked up but never connected to a network.allow "name". A flow
//     without a name becomes "a.b.c.d/32" (or "addr/128"), the CIDR form profiles accept.
//     Every entry is checked with the profile parser, and one it rejects (a single-label
//     name, a public suffix, a reverse lookup) is refused with the parser's reason.
//
//  6. The output is deterministic: rules sorted by Section then Entry, refusals by Target.
//
//  7. It never proposes write access where what the agent leaves runs outside the sandbox
//     (see refuse.go): a system directory (/usr, /etc, /opt, /var but /var/tmp, …), a
//     directory programs run from (in or above exec.allow, outside the workspace), git's
//     control files and configuration, what a protect or deny rule of the policy or of
//     Options.Guards covers (shell start-up files, autostart, systemd and cron, agents'
//     settings, agentrun's own files); nor read access to what a deny rule of the policy or
//     of Options.Guards covers (other profiles' secrets). A generalised rule that would be
//     refused refuses its targets. Each refusal says why. Where a deny rule of
//     Options.Guards (and, for a write, a protect rule) lies inside what a rule allows
//     rather than covering it (aider's ~/.claude/.credentials.json in a rule for ~/.claude),
//     the rule is proposed and carries the guard in Rule.Keeps, spelled as its profile
//     writes it, unless the policy has it already: accepting the rule adds the guard to
//     the profile, so the secret or start-up file stays guarded. Rule.OutsideWorkspace
//     marks the write rules that reach beyond the workspace, for the caller to confirm.
//
// Refusal targets and reasons, entries and examples hold the agent's strings raw: show them
// through display.Escape.
//
// The package imports nothing OS-specific; Apply and Diff work on bytes.
package learn

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// Observation is one aggregated kind of access that enforce mode would deny.
type Observation struct {
	Kind events.Kind
	// Op is, for files, read, write, create, delete, rename, mkdir or link; for programs
	// exec; for flows tcp or udp; for DNS the query type.
	Op string
	// Target is, for files and programs, an absolute path; for flows "name:port", or
	// "address:port" when no name is known; for DNS the name.
	Target  string
	Count   int64
	Example events.Event // one event of the group, shown to the user
}

// Rule is one entry proposed for a profile.
type Rule struct {
	// Section is the list the entry goes to: "filesystem.read", "filesystem.write",
	// "exec.allow", "network.allow" or "network.udp".
	Section string
	// Entry is the item exactly as written in the YAML list: "~/.npm/_cacache",
	// "$WORKSPACE/build", "/opt/tool/*", "registry.npmjs.org", "api.example.com:8443".
	Entry   string
	Count   int64        // events it covers
	Example events.Event // an event of its most frequent observation
	Covers  []string     // targets it covers, sorted, at most MaxCovers
	// Keeps are the rules that come with it: the deny rules (secrets) and, for a write, the
	// protect rules (files that start programs outside the sandbox) of Options.Guards that
	// lie inside what it allows and that the policy does not have; accepting the rule adds
	// them to the profile too. Sorted by Section then Entry.
	Keeps []Rule
	// Why is, for a kept rule, what it guards and where it comes from: "a secret,
	// builtin/aider.yaml:41:7".
	Why string
}

// MaxCovers is how many covered targets a Rule lists.
const MaxCovers = 5

// Refusal is a target that no proposed rule may allow, and why.
type Refusal struct {
	Target string
	Count  int64
	Why    string // "denied by filesystem.deny ~/.ssh/id_ed25519 (builtin/base.yaml:41:7): …"
}

// Options says how to spell paths in entries. Empty fields are not used.
type Options struct {
	Home, Workspace, TmpDir string
	// Guards are deny and protect rules beyond the policy's own, normally those of every
	// built-in profile: a read a deny rule covers, and a write a deny or protect rule
	// covers, are refused even when this profile does not have the rule; a rule that holds
	// one keeps it (Rule.Keeps).
	Guards *profiles.FilesystemPolicy
}

// The sections a Rule can name.
const (
	SectionRead         = "filesystem.read"
	SectionWrite        = "filesystem.write"
	SectionExec         = "exec.allow"
	SectionNetworkAllow = "network.allow"
	SectionNetworkUDP   = "network.udp"
	// Only in Rule.Keeps.
	SectionDeny    = "filesystem.deny"
	SectionProtect = "filesystem.protect"
)

// Propose turns observations into rules for the profile whose resolved policy is pol, and
// lists the targets it refuses to allow. See the package documentation for the rules.
func Propose(pol *profiles.Policy, obs []Observation, opts Options) ([]Rule, []Refusal) {
	l := &learner{
		pol:     pol,
		opts:    opts.clean(),
		refused: map[string]*Refusal{},
	}
	var todo []Observation
	for _, o := range obs {
		if v := o.Example.Verdict; v == events.WouldDeny || v == events.Denied {
			todo = append(todo, normalise(o))
		}
	}
	// The same answer whatever the order of obs: equal groups pick the same example.
	slices.SortStableFunc(todo, func(a, b Observation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Op, b.Op),
			cmp.Compare(b.Count, a.Count), a.Example.Time.Compare(b.Example.Time), cmp.Compare(a.Example.RunID, b.Example.RunID),
			cmp.Compare(a.Example.Process, b.Example.Process))
	})
	files, execs := newGroups(), newGroups()
	var nets []Observation
	for _, o := range todo {
		switch o.Kind {
		case events.KindFile:
			if l.absolute(o) {
				files.add(path.Clean(o.Target), o)
			}
		case events.KindExec:
			if l.absolute(o) {
				execs.add(path.Clean(o.Target), o)
			}
		case events.KindFlow, events.KindDNS:
			nets = append(nets, o)
		}
	}
	var cands []*cand
	cands = append(cands, l.fileItems(files)...)
	cands = append(cands, l.execItems(execs)...)
	cands = l.generalise(cands)
	cands = l.refuseGeneralised(cands)
	cands = append(cands, l.network(nets)...)

	rules := make([]Rule, 0, len(cands))
	for _, c := range cands {
		entry := c.entry(l.opts)
		if err := checkEntry(c.section, entry); err != nil {
			for _, t := range c.targets() {
				l.refuse(t, c.countOf[t], err.Error())
			}
			continue
		}
		keeps, err := l.keepsOf(c.section, literalBase(c.pattern))
		if err != nil {
			for _, t := range c.targets() {
				l.refuse(t, c.countOf[t], err.Error())
			}
			continue
		}
		covers := c.targets()
		if len(covers) > MaxCovers {
			covers = covers[:MaxCovers]
		}
		rules = append(rules, Rule{Section: c.section, Entry: entry, Count: c.count, Example: c.example, Covers: covers, Keeps: keeps})
	}
	slices.SortFunc(rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Section, b.Section), cmp.Compare(a.Entry, b.Entry))
	})
	refusals := make([]Refusal, 0, len(l.refused))
	for _, r := range l.refused {
		refusals = append(refusals, *r)
	}
	slices.SortFunc(refusals, func(a, b Refusal) int { return cmp.Compare(a.Target, b.Target) })
	return rules, refusals
}

// normalise fills Op, Target and Count from the example where the aggregate left them out.
func normalise(o Observation) Observation {
	e := o.Example
	if o.Kind == "" {
		o.Kind = e.Kind
	}
	if o.Op == "" {
		o.Op = e.Op
		if o.Kind == events.KindFlow || o.Kind == events.KindDNS {
			o.Op = e.Protocol
		}
	}
	o.Op = strings.ToLower(o.Op)
	if o.Target == "" {
		switch o.Kind {
		case events.KindFile, events.KindExec, events.KindSocket:
			o.Target = e.Path
		case events.KindDNS:
			o.Target = e.Name
		case events.KindFlow:
			host := e.Name
			if host == "" {
				host = e.Address
				if strings.Contains(host, ":") {
					host = "[" + host + "]"
				}
			}
			o.Target = fmt.Sprintf("%s:%d", host, e.Port)
		}
	}
	if o.Count < 1 {
		o.Count = 1
	}
	return o
}

type learner struct {
	pol     *profiles.Policy
	opts    Options
	refused map[string]*Refusal
}

func (l *learner) refuse(target string, n int64, why string) {
	if r, ok := l.refused[target]; ok {
		r.Count += n
		return
	}
	l.refused[target] = &Refusal{Target: target, Count: n, Why: why}
}

func (l *learner) absolute(o Observation) bool {
	if !strings.HasPrefix(o.Target, "/") {
		l.refuse(o.Target, o.Count, "not an absolute path; a profile names files by absolute path")
		return false
	}
	return true
}

// group is the observations of one target, with all their ops.
type group struct {
	target  string
	ops     map[string]bool
	count   int64
	example events.Event
	exCount int64 // the count of the observation the example comes from
}

type groups struct {
	byTarget map[string]*group
	order    []string
}

func newGroups() *groups { return &groups{byTarget: map[string]*group{}} }

func (gs *groups) add(target string, o Observation) {
	g, ok := gs.byTarget[target]
	if !ok {
		g = &group{target: target, ops: map[string]bool{}}
		gs.byTarget[target] = g
		gs.order = append(gs.order, target)
	}
	g.ops[o.Op] = true
	g.count += o.Count
	if o.Count > g.exCount {
		g.example, g.exCount = o.Example, o.Count
	}
}

func (gs *groups) list() []*group {
	slices.Sort(gs.order)
	out := make([]*group, len(gs.order))
	for i, t := range gs.order {
		out[i] = gs.byTarget[t]
	}
	return out
}

// refusalWhy says why no rule can lift a denial, or "" when a rule can.
func refusalWhy(d profiles.AccessDecision) string {
	switch {
	case d.Allow:
		return ""
	case strings.HasPrefix(d.Rule, "filesystem.deny "), strings.HasPrefix(d.Rule, "exec.deny "):
		return "denied by " + d.Rule + ": deny always wins, and learning never lifts it"
	case strings.HasPrefix(d.Rule, "filesystem.protect "):
		return "protected (read-only) by " + d.Rule + ": protect wins over write, and learning never lifts it"
	}
	return ""
}

// fileItems makes one candidate per file target the policy does not already allow.
func (l *learner) fileItems(gs *groups) []*cand {
	var out []*cand
	for _, g := range gs.list() {
		write := false
		for op := range g.ops {
			write = write || op != "read"
		}
		section, access := SectionRead, profiles.AccessRead
		if write {
			section, access = SectionWrite, profiles.AccessWrite
		}
		d := l.pol.CheckFile(g.target, access)
		if d.Allow {
			continue
		}
		if why := refusalWhy(d); why != "" {
			l.refuse(g.target, g.count, why)
			continue
		}
		if why := l.refusal(section, g.target); why != "" {
			l.refuse(g.target, g.count, why)
			continue
		}
		c := newCand(section, g)
		c.inDir = g.ops["create"] || g.ops["mkdir"]
		out = append(out, c)
	}
	return out
}

// execItems makes candidates for programs: exec.allow for the program, and filesystem.read
// for its directory when the agent cannot read it.
func (l *learner) execItems(gs *groups) []*cand {
	var out []*cand
	for _, g := range gs.list() {
		d := l.pol.CheckFile(g.target, profiles.AccessExec)
		if why := refusalWhy(d); why != "" {
			l.refuse(g.target, g.count, why)
			continue
		}
		if !d.Allow {
			out = append(out, newCand(SectionExec, g))
		}
		r := l.pol.CheckFile(g.target, profiles.AccessRead)
		if r.Allow || refusalWhy(r) != "" || l.readRefusal(path.Dir(g.target)) != "" {
			continue
		}
		c := newCand(SectionRead, g)
		c.inDir = true // the directory, not the program
		out = append(out, c)
	}
	return out
}

// checkEntry asks the profile parser whether entry is a valid item of section.
func checkEntry(section, entry string) error {
	sec, list, _ := strings.Cut(section, ".")
	doc := fmt.Sprintf("name: learned\n%s:\n  %s:\n    - %s\n", sec, list, scalar(entry, false))
	if _, err := profiles.Parse("learned", []byte(doc)); err != nil {
		var el profiles.ErrorList
		if errors.As(err, &el) && len(el) > 0 {
			return errors.New(el[0].Msg)
		}
		return err
	}
	return nil
}
