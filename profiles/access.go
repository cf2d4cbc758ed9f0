package profiles

import "strings"

// Access is what a process does to a path, as the policy judges it.
type Access int

// The accesses. Write covers creating, changing, renaming and removing.
const (
	AccessRead Access = iota + 1
	AccessWrite
	AccessExec
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessExec:
		return "exec"
	}
	return "access"
}

// AccessDecision is the policy's answer for one access.
type AccessDecision struct {
	Allow bool
	// Rule names the rule that decided, as "filesystem.deny ~/.ssh (base.yaml:12)", or is
	// empty when no rule covers the path.
	Rule string
	// Reason says why in words, for denials.
	Reason string
}

// CheckFile says whether enforce mode lets the agent do a to path, an absolute canonical
// path, and which rule decides. It judges as the Linux sandbox enforces: of the rules whose
// pattern covers the path (the path or a directory above it), deny wins, then protect
// (read-only), then write, then read; a path no rule covers is not there for the agent.
// Programs run only from beneath an exec.allow pattern's directory and never from under an
// exec.deny pattern.
func (p *Policy) CheckFile(path string, a Access) AccessDecision {
	return decideFile(path, a, p.firstCovering, true)
}

// The rule lists CheckFile asks, in the order it asks them.
type ruleList int

const (
	listDeny ruleList = iota
	listExecDeny
	listExecAllow
	listProtect
	listWrite
	listRead
	numRuleLists
)

// rules is p's list l; covers is l's test of one of its rules.
func (p *Policy) rules(l ruleList) (rules []PathRule, covers func(r PathRule, path string) bool) {
	covers = patternCoversRule
	switch l {
	case listDeny:
		rules = p.Filesystem.Deny
	case listExecDeny:
		rules = p.Exec.Deny
	case listExecAllow:
		rules, covers = p.Exec.Allow, execAllowCovers
	case listProtect:
		rules = p.Filesystem.Protect
	case listWrite:
		rules = p.Filesystem.Write
	case listRead:
		rules = p.Filesystem.Read
	}
	return rules, covers
}

func patternCoversRule(r PathRule, path string) bool { return PatternCovers(r.Path, path) }

// execAllowCovers: programs run from beneath an exec.allow pattern's directory.
func execAllowCovers(r PathRule, path string) bool { return Within(path, GlobBase(r.Path)) }

// firstCovering returns the first rule of p's list l that covers path, asking each in turn.
func (p *Policy) firstCovering(l ruleList, path string) (PathRule, bool) {
	rules, covers := p.rules(l)
	return firstOf(rules, covers, path)
}

// firstOf returns the first of rules that covers path by covers.
func firstOf(rules []PathRule, covers func(r PathRule, path string) bool, path string) (PathRule, bool) {
	for _, r := range rules {
		if covers(r, path) {
			return r, true
		}
	}
	return PathRule{}, false
}

// decideFile is CheckFile's judgement, with first the first rule of a list that covers a
// path: Policy.CheckFile asks every rule in turn, a FileChecker looks them up.
func decideFile(path string, a Access, first func(l ruleList, path string) (PathRule, bool), named bool) AccessDecision {
	ruleName := ruleName
	if !named {
		ruleName = func(string, PathRule) string { return "" }
	}
	if r, ok := first(listDeny, path); ok {
		return AccessDecision{Rule: ruleName("filesystem.deny", r), Reason: "denied by the profile"}
	}
	if a == AccessExec {
		if r, ok := first(listExecDeny, path); ok {
			return AccessDecision{Rule: ruleName("exec.deny", r), Reason: "execution denied by the profile"}
		}
		if r, ok := first(listExecAllow, path); ok {
			return AccessDecision{Allow: true, Rule: ruleName("exec.allow", r)}
		}
		return AccessDecision{Reason: "no exec.allow rule covers it"}
	}
	if r, ok := first(listProtect, path); ok {
		if a == AccessWrite {
			return AccessDecision{Rule: ruleName("filesystem.protect", r), Reason: "protected (read-only) by the profile"}
		}
		return AccessDecision{Allow: true, Rule: ruleName("filesystem.protect", r)}
	}
	if r, ok := first(listWrite, path); ok {
		return AccessDecision{Allow: true, Rule: ruleName("filesystem.write", r)}
	}
	if r, ok := first(listRead, path); ok {
		if a == AccessWrite {
			return AccessDecision{Rule: ruleName("filesystem.read", r), Reason: "read-only: no filesystem.write rule covers it"}
		}
		return AccessDecision{Allow: true, Rule: ruleName("filesystem.read", r)}
	}
	return AccessDecision{Reason: ReasonNotCovered}
}

func ruleName(section string, r PathRule) string {
	s := section + " " + r.Pattern
	if o := r.Origin.String(); o != "" {
		s += " (" + o + ")"
	}
	return s
}

// covering returns the first rule whose pattern covers path.
func covering(rules []PathRule, path string) (PathRule, bool) {
	return firstOf(rules, patternCoversRule, path)
}

// PatternCovers reports whether an expanded rule pattern applies to path: the pattern names
// path or a directory above it. A pattern ending in /** names its directory; * and ** inside
// a pattern match one path element each, as the launcher expands them, and a negation
// element !(a|b) one element that neither a nor b matches (MatchElement).
func PatternCovers(pattern, path string) bool {
	i := wildcardIndex(pattern)
	if i < 0 {
		return Within(path, pattern)
	}
	// What comes before the first wildcard's element must lead to path: most rules fail
	// here, before either is split (the judge asks every rule of a policy for every access).
	if j := strings.LastIndexByte(pattern[:i], '/'); j >= 0 && !Within(path, pattern[:j]) {
		return false
	}
	if base, ok := strings.CutSuffix(pattern, "/**"); ok && !IsPattern(base) {
		return Within(path, base)
	}
	pe := strings.Split(pattern, "/")
	xe := strings.Split(path, "/")
	if len(xe) < len(pe) {
		return false
	}
	for i, el := range pe {
		if !MatchElement(strings.ReplaceAll(el, "**", "*"), xe[i]) {
			return false
		}
	}
	return true
}

// GlobBase is the directory a pattern's rule applies to where rules cannot match names
// (Landlock grants rights beneath paths): everything below the last element before the first
// wildcard (* or !(...)), since files matching the pattern may appear after the launch. For
// the usual DIR/** this is exactly DIR.
func GlobBase(pattern string) string {
	i := wildcardIndex(pattern)
	if i < 0 {
		return pattern
	}
	base := pattern[:strings.LastIndexByte(pattern[:i], '/')]
	if base == "" {
		return "/"
	}
	return base
}

// Within reports whether path is dir or inside it.
func Within(path, dir string) bool {
	// Without building dir+"/": the judge asks this of every rule for every access.
	return dir == "/" || strings.HasPrefix(path, dir) && (len(path) == len(dir) || path[len(dir)] == '/')
}
