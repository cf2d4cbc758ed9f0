package learn

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// systemWriteDirs are where the system's programs, libraries, configuration and services
// live: a write rule there lets the agent plant code or settings that run outside the
// sandbox (a program on PATH, an apt hook, a library path in /etc/ld.so.conf.d, a unit in
// /run/systemd, a cron table in /var/spool). /var is listed whole but for /var/tmp; a path
// inside the home, the workspace or $TMPDIR is judged as theirs.
var systemWriteDirs = []string{
	"/bin", "/boot", "/dev", "/efi", "/etc", "/gnu", "/lib", "/lib32", "/lib64", "/libx32", "/nix",
	"/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/usr", "/var",
}

// systemWriteExceptions are directories inside systemWriteDirs that hold only data.
var systemWriteExceptions = []string{"/var/tmp"}

// writeRefusal says why learning never proposes write access at p, an absolute path or
// the literal base of a pattern, or "" when it may. Inside the home, the workspace or
// $TMPDIR no directory counts as a system one (root's home is /root); exec.allow rules for
// the workspace or $TMPDIR do not count.
func (l *learner) writeRefusal(p string) string {
	if why := gitControl(p); why != "" {
		return why
	}
	if why := l.guarded(p, true); why != "" {
		return why
	}
	for _, d := range systemWriteDirs {
		if withinDir(p, d) && !l.mine(p) && !slices.ContainsFunc(systemWriteExceptions, func(e string) bool { return withinDir(p, e) }) {
			return "a system directory (" + d + " holds programs, libraries, configuration or services that run outside the sandbox): learning never proposes write access there"
		}
	}
	for _, r := range l.pol.Exec.Allow {
		// The workspace and $TMPDIR are where the agent builds and runs its work; base lets
		// it write and execute in the workspace.
		base := profiles.GlobBase(r.Path)
		if l.opts.Workspace != "" && withinDir(base, l.opts.Workspace) || l.opts.TmpDir != "" && withinDir(base, l.opts.TmpDir) {
			continue
		}
		if withinDir(p, base) || withinDir(base, p) {
			return "programs run from there (exec.allow " + r.Pattern + originOf(r) + "): learning never proposes write access where the agent may execute"
		}
	}
	return ""
}

// refusal says why learning never proposes section (read or write) access at p, or "".
func (l *learner) refusal(section, p string) string {
	switch section {
	case SectionWrite:
		return l.writeRefusal(p)
	case SectionRead:
		return l.readRefusal(p)
	}
	return ""
}

// refuseGeneralised drops each file candidate whose generalised pattern would be refused
// though its targets are not (a parent of a directory programs run from, a directory that
// another profile's deny or protect rule covers), and refuses its targets.
func (l *learner) refuseGeneralised(cands []*cand) []*cand {
	return slices.DeleteFunc(cands, func(c *cand) bool {
		why := l.refusal(c.section, literalBase(c.pattern))
		if why == "" {
			return false
		}
		for _, t := range c.targets() {
			l.refuse(t, c.countOf[t], why)
		}
		return true
	})
}

// readRefusal says why learning never proposes read access at p, or "".
func (l *learner) readRefusal(p string) string {
	return l.guarded(p, false)
}

// mine reports whether p is inside the home, the workspace or $TMPDIR, and so not a
// system directory even when one of them lies in /var or /root.
func (l *learner) mine(p string) bool {
	for _, b := range l.opts.bases() {
		if b[0] != "" && withinDir(p, b[0]) {
			return true
		}
	}
	return false
}

// What the rules of each kind guard, as refusals and kept rules say it.
const (
	guardsSecret = "a secret"
	guardsStarts = "it starts programs outside the sandbox (shell start-up, autostart, services, git or agent settings)"
	guardsOwn    = "agentrun's own files (its event store, profiles or runtime state)"
)

// guarded checks p against the deny and (for writes) protect rules that cover it: the
// policy's, and those of Options.Guards, the deny rules (secrets) and protect rules (files
// that start programs outside the sandbox) of the other built-in profiles, which this profile
// may not have. A rule of Options.Guards that lies inside p does not refuse it: the rule for
// p keeps it (keepsOf).
func (l *learner) guarded(p string, write bool) string {
	type set struct {
		rules   []profiles.PathRule
		section string
		why     string
	}
	sets := []set{{l.pol.Filesystem.Deny, SectionDeny, guardsSecret}}
	if write {
		sets = append(sets, set{l.pol.Filesystem.Protect, SectionProtect, guardsStarts})
	}
	if g := l.opts.Guards; g != nil {
		sets = append(sets, set{g.Deny, SectionDeny, guardsSecret})
		if write {
			sets = append(sets, set{g.Protect, SectionProtect, guardsStarts})
		}
	}
	for _, s := range sets {
		for _, r := range s.rules {
			if !profiles.PatternCovers(r.Path, p) {
				continue
			}
			why := s.why
			if r.OwnFiles() {
				why = guardsOwn
			}
			return why + ", " + s.section + " " + r.Pattern + originOf(r) + ": learning never proposes " + accessWord(write) + " access to it"
		}
	}
	return ""
}

// keepsOf lists the rules that come with a rule of section whose pattern's literal base is
// base: the deny rules of Options.Guards and, for a write, their protect rules, that lie
// inside base and that the policy does not have already (one of its rules covers them). A
// guard another kept deny rule covers holds through it and is left out, so the profile gets
// no rule that deny shadows. A guard that covers base refuses the rule instead (guarded). It
// fails when a guard's pattern is no valid entry of its section.
func (l *learner) keepsOf(section, base string) ([]Rule, error) {
	g := l.opts.Guards
	if g == nil || section != SectionRead && section != SectionWrite {
		return nil, nil
	}
	type guard struct {
		r       profiles.PathRule
		section string
	}
	var found []guard
	add := func(rules []profiles.PathRule, sec string, holds ...[]profiles.PathRule) {
		for _, r := range rules {
			if !withinDir(literalBase(r.Path), base) || slices.ContainsFunc(slices.Concat(holds...), func(h profiles.PathRule) bool { return covers(h.Path, r.Path) }) {
				continue
			}
			found = append(found, guard{r, sec})
		}
	}
	fs := &l.pol.Filesystem
	add(g.Deny, SectionDeny, fs.Deny)
	if section == SectionWrite {
		add(g.Protect, SectionProtect, fs.Deny, fs.Protect)
	}
	var out []Rule
	for _, k := range found {
		if slices.ContainsFunc(found, func(d guard) bool {
			return d.section == SectionDeny && covers(d.r.Path, k.r.Path) && (d.r.Path != k.r.Path || k.section == SectionProtect)
		}) {
			continue
		}
		entry := k.r.Pattern
		if entry == "" {
			entry = l.opts.spell(k.r.Path)
		}
		why := guardsSecret
		switch {
		case k.r.OwnFiles():
			why = guardsOwn
		case k.section == SectionProtect:
			why = "it starts programs outside the sandbox"
		}
		if o := k.r.Origin.String(); o != "" {
			why += ", " + o
		}
		if err := checkEntry(k.section, entry); err != nil {
			return nil, fmt.Errorf("%s %s%s lies inside %s and would have to come with it, but it is not a valid entry there: %v", k.section, entry, originOf(k.r), l.opts.spell(base), err)
		}
		out = append(out, Rule{Section: k.section, Entry: entry, Why: why})
	}
	slices.SortFunc(out, func(a, b Rule) int { return cmp.Or(cmp.Compare(a.Section, b.Section), cmp.Compare(a.Entry, b.Entry)) })
	return slices.CompactFunc(out, func(a, b Rule) bool { return a.Section == b.Section && a.Entry == b.Entry }), nil
}

// covers reports whether the rule pattern covers p, a path or a pattern: p is the pattern
// itself or lies beneath what the pattern names.
func covers(pattern, p string) bool {
	return pattern == p || profiles.PatternCovers(pattern, p) || profiles.PatternCovers(pattern, literalBase(p))
}

// gitControl refuses a path in a .git directory or a git configuration file: hooks and
// config keys (core.fsmonitor, core.pager, aliases) run programs when the user runs git.
func gitControl(p string) string {
	for _, e := range elements(p) {
		if e == ".git" {
			return "git's control files (hooks and config run programs when git runs): learning never proposes write access to them"
		}
	}
	if b := path.Base(p); b == ".gitconfig" || b == ".gitmodules" || strings.HasSuffix(p, "/.config/git") || strings.Contains(p, "/.config/git/") {
		return "git's configuration (its keys run programs when git runs): learning never proposes write access to it"
	}
	return ""
}

func originOf(r profiles.PathRule) string {
	if o := r.Origin.String(); o != "" {
		return " (" + o + ")"
	}
	return ""
}

func accessWord(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

// OutsideWorkspace reports whether r widens write access beyond the workspace: learn's
// --yes accepts such a rule only with --allow-write-outside-workspace, and the review asks
// again.
func (r Rule) OutsideWorkspace() bool {
	return r.Section == SectionWrite && r.Entry != "$WORKSPACE" && !strings.HasPrefix(r.Entry, "$WORKSPACE/")
}

// GuardsOf collects the deny and protect rules of pols (normally every built-in profile,
// resolved for the same launch) for Options.Guards.
func GuardsOf(pols ...*profiles.Policy) *profiles.FilesystemPolicy {
	g := &profiles.FilesystemPolicy{}
	seen := map[string]bool{}
	for _, p := range pols {
		for _, r := range p.Filesystem.Deny {
			if k := "d " + r.Path; !seen[k] {
				seen[k] = true
				g.Deny = append(g.Deny, r)
			}
		}
		for _, r := range p.Filesystem.Protect {
			if k := "p " + r.Path; !seen[k] {
				seen[k] = true
				g.Protect = append(g.Protect, r)
			}
		}
	}
	return g
}
