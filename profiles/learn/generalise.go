package learn

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// cand is a rule being built: the targets it covers and, once placed, its pattern.
type cand struct {
	section string
	target  string // the path it started from (file and exec candidates)
	inDir   bool   // the rule should name the target's directory: created there, or a program's
	pattern string // absolute pattern, set by generalise
	net     *netDest

	count   int64
	countOf map[string]int64 // target → events
	example events.Event
	exCount int64
}

func newCand(section string, g *group) *cand {
	return &cand{
		section: section,
		target:  g.target,
		count:   g.count,
		countOf: map[string]int64{g.target: g.count},
		example: g.example,
		exCount: g.exCount,
	}
}

// merge adds o's events and targets to c.
func (c *cand) merge(o *cand) {
	c.count += o.count
	for t, n := range o.countOf {
		c.countOf[t] += n
	}
	if o.exCount > c.exCount {
		c.example, c.exCount = o.example, o.exCount
	}
}

func (c *cand) targets() []string {
	out := make([]string, 0, len(c.countOf))
	for t := range c.countOf {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func (c *cand) entry(opts Options) string {
	if c.net != nil {
		return c.net.entry(c.section)
	}
	return opts.spell(c.pattern)
}

func (o Options) clean() Options {
	for _, p := range []*string{&o.Home, &o.Workspace, &o.TmpDir} {
		if *p != "" {
			*p = path.Clean(*p)
		}
		if !strings.HasPrefix(*p, "/") || *p == "/" {
			*p = ""
		}
	}
	return o
}

// bases are the directories entries are spelled relative to, with their spelling.
func (o Options) bases() [3][2]string {
	return [3][2]string{{o.Home, "~"}, {o.Workspace, "$WORKSPACE"}, {o.TmpDir, "$TMPDIR"}}
}

// spell writes an absolute pattern with ~, $WORKSPACE or $TMPDIR, the longest match winning.
func (o Options) spell(p string) string {
	best, name := "", ""
	for _, b := range o.bases() {
		if b[0] != "" && withinDir(p, b[0]) && len(b[0]) > len(best) {
			best, name = b[0], b[1]
		}
	}
	if best == "" {
		return p
	}
	return name + p[len(best):]
}

// baseDepth is the number of path elements of the longest base directory holding p: those
// elements are the user's choice, not a tool's, and are never taken as version-like.
func (o Options) baseDepth(p string) int {
	n := 0
	for _, b := range o.bases() {
		if b[0] != "" && withinDir(p, b[0]) {
			n = max(n, len(elements(b[0])))
		}
	}
	return n
}

// broad lists the directories a rule is never generalised to besides / and its children:
// each holds the data of many programs.
func (o Options) broad() []string {
	var out []string
	if o.Home != "" {
		out = append(out, o.Home, path.Dir(o.Home))
		for _, d := range []string{".config", ".cache", ".local", ".local/share", ".local/state"} {
			out = append(out, path.Join(o.Home, d))
		}
	}
	if o.TmpDir != "" {
		out = append(out, o.TmpDir)
	}
	return out
}

func elements(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func join(elems []string) string { return "/" + strings.Join(elems, "/") }

func withinDir(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// literalBase is the part of a pattern before its first element with a wildcard.
func literalBase(p string) string { return profiles.GlobBase(p) }

// generalise places every candidate (rule 3 of the package documentation), then merges
// directories of many targets and rules that others cover.
func (l *learner) generalise(cands []*cand) []*cand {
	var placed []*cand
	for _, c := range cands {
		p, err := l.place(c)
		if err != nil {
			for _, t := range c.targets() {
				l.refuse(t, c.countOf[t], err.Error())
			}
			continue
		}
		if c.section == SectionWrite && profiles.MakesNothing(p, l.pol.Filesystem.Write) {
			// A rule for names made afresh in a directory no write rule opens compiles to
			// nothing, and the profile would refuse it (see profiles.MakesNothing).
			for _, t := range c.targets() {
				l.refuse(t, c.countOf[t], fmt.Sprintf("the agent makes these files in %s, which is not writable; only a rule for all of %s would allow them, and learning never proposes that (a program that saves through a temporary file beside its target needs a directory of its own)", l.opts.spell(path.Dir(p)), l.opts.spell(path.Dir(p))))
			}
			continue
		}
		c.pattern = p
		placed = append(placed, c)
	}
	l.byDirectory(placed)
	return mergeCovered(placed)
}

// place chooses the pattern for one candidate: cut above a version-like element or one a
// profile cannot spell, or the directory of a created file or a program; but never a
// directory too broad or with a deny inside, going deeper instead.
func (l *learner) place(c *cand) (string, error) {
	elems := elements(c.target)
	exec := c.section == SectionExec
	limit := len(elems) // patterns may keep at most this many elements
	for i, e := range elems {
		if !spellable(e) {
			limit = i
			break
		}
	}
	if clipped(c.target) && limit == len(elems) {
		limit-- // the last name is not the one the agent used
	}
	want := len(elems)
	vi, prefix := volatileAt(elems, l.opts.baseDepth(c.target))
	switch {
	case vi >= 0 && vi < limit:
		want = vi
	case limit < len(elems):
		want = limit
	case c.inDir:
		want = len(elems) - 1
	}
	dir := func(n int) string {
		if exec {
			return join(elems[:n]) + "/**"
		}
		return join(elems[:n])
	}
	if want == len(elems) {
		return l.target(c.target)
	}
	if l.safe(join(elems[:want]), exec) {
		return dir(want), nil
	}
	if want == vi && vi >= 1 && prefix != "" {
		g := join(elems[:vi]) + "/" + prefix + "*"
		if l.safeGlob(g, exec) {
			if exec {
				g += "/**"
			}
			return g, nil
		}
	}
	for n := want + 1; n <= limit; n++ {
		if n == len(elems) {
			return l.target(c.target)
		}
		if l.safe(join(elems[:n]), exec) {
			return dir(n), nil
		}
	}
	return "", fmt.Errorf("\"%s\" cannot be written in a profile (?, [, ], {, }, *, $, \\, control, format and bidi characters and invalid UTF-8 are not allowed in names), and no directory above it can be allowed safely", elems[limit])
}

// target is the pattern for a target kept as it is, unless a rule for it would open a whole
// system directory or one of Options.broad: an agent that lists / or makes ~/.cache does not
// get everything beneath them.
func (l *learner) target(p string) (string, error) {
	if slices.Contains(systemDirs, p) || slices.Contains(l.opts.broad(), p) {
		return "", fmt.Errorf("too broad to allow: a rule for %s covers everything beneath it; write a narrower rule by hand if the agent needs it", l.opts.spell(p))
	}
	return p, nil
}

// systemDirs are the top-level directories of a Linux system.
var systemDirs = []string{"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"}

// safe reports whether a rule may name dir, which is not the observed target itself: dir is
// not / or a directory directly beneath it, not one of Options.broad, and no deny rule lies
// at or inside it.
func (l *learner) safe(dir string, exec bool) bool {
	if len(elements(dir)) < 2 || slices.Contains(l.opts.broad(), dir) {
		return false
	}
	for _, d := range l.denies(exec) {
		if withinDir(literalBase(d.Path), dir) || profiles.PatternCovers(d.Path, dir) {
			return false
		}
	}
	return true
}

// safeGlob reports whether a pattern ending in a "prefix*" element may be proposed: no deny
// rule lies inside what it matches.
func (l *learner) safeGlob(g string, exec bool) bool {
	for _, d := range l.denies(exec) {
		if profiles.PatternCovers(g, literalBase(d.Path)) || profiles.PatternCovers(g, d.Path) {
			return false
		}
	}
	return true
}

func (l *learner) denies(exec bool) []profiles.PathRule {
	out := l.pol.Filesystem.Deny
	if exec {
		out = append(slices.Clip(out), l.pol.Exec.Deny...)
	}
	return out
}

// byDirectory replaces three or more literal patterns of one section in one directory by
// the directory (DIR/* for programs), where that is safe.
func (l *learner) byDirectory(cands []*cand) {
	type key struct{ section, dir string }
	members := map[key][]*cand{}
	distinct := map[key]map[string]bool{}
	for _, c := range cands {
		if profiles.IsPattern(c.pattern) || c.pattern == "/" {
			continue
		}
		k := key{c.section, path.Dir(c.pattern)}
		members[k] = append(members[k], c)
		if distinct[k] == nil {
			distinct[k] = map[string]bool{}
		}
		distinct[k][c.pattern] = true
	}
	for k, cs := range members {
		exec := k.section == SectionExec
		if len(distinct[k]) < 3 || !l.safe(k.dir, exec) {
			continue
		}
		p := k.dir
		if exec {
			p += "/*"
		}
		for _, c := range cs {
			c.pattern = p
		}
	}
}

var sectionRank = map[string]int{SectionWrite: 0, SectionRead: 1, SectionExec: 2}

// mergeCovered merges every candidate that another covers into it. A write rule covers read
// rules, since write includes read.
func mergeCovered(cands []*cand) []*cand {
	slices.SortStableFunc(cands, func(a, b *cand) int {
		return cmp.Or(
			cmp.Compare(len(elements(literalBase(a.pattern))), len(elements(literalBase(b.pattern)))),
			cmp.Compare(sectionRank[a.section], sectionRank[b.section]),
			cmp.Compare(a.pattern, b.pattern),
		)
	})
	var kept []*cand
next:
	for _, c := range cands {
		for _, k := range kept {
			sameKind := k.section == c.section || k.section == SectionWrite && c.section == SectionRead
			if sameKind && profiles.PatternCovers(k.pattern, c.pattern) {
				k.merge(c)
				continue next
			}
		}
		kept = append(kept, c)
	}
	return kept
}

var (
	dottedVersion = profiles.LazyRegexp(`[0-9]+\.[0-9]+`)                   // python3.11, node-v20.11.0, libssl.so.1.1
	vNumber       = profiles.LazyRegexp(`(?:^|[-_.@])(v[0-9]+)(?:$|[-_.])`) // index-v5, v20
	hexRun        = profiles.LazyRegexp(`[0-9a-fA-F]{12,}`)                 // hashes, UUIDs, go-build outputs
	digitRun      = profiles.LazyRegexp(`[0-9]{6,}`)                        // pids, timestamps, go-build1234567
	mktemp        = profiles.LazyRegexp(`^tmp\.([A-Za-z0-9]{6,})$`)         // mktemp's tmp.XXXXXXXXXX
	twoHex        = profiles.LazyRegexp(`^[0-9a-f]{2}$`)                    // fan-out: go-build/ab/…, objects/1f/…
	unspellable   = profiles.LazyRegexp(`[?\[\]{}*$\x00-\x1f\x7f]|^\.\.?$`) // what a profile path cannot say
)

// A name that display.Escape would change (a backslash, a control, format or bidi character,
// invalid UTF-8) is not spelled either: a profile is text for people, and a backslash is an
// escape in patterns.
func spellable(elem string) bool { return !unspellable().MatchString(elem) && display.Plain(elem) }

// clipped reports whether path is one the event store cut short (events.Clip): its last
// element ends in events.Truncated where the real name went on.
func clipped(path string) bool {
	return strings.HasSuffix(path, events.Truncated) && len(path) > events.MaxPathLen-utf8.UTFMax-1
}

// volatileAt finds the first element from start on whose name will change from run to run,
// and the stable prefix of its name (for a glob; "" when there is none worth keeping).
// It returns -1 when there is no such element.
func volatileAt(elems []string, start int) (int, string) {
	for i := start; i < len(elems); i++ {
		if at := volatileIndex(elems, i); at >= 0 {
			prefix := elems[i][:at]
			if len(prefix) < 2 || !strings.ContainsFunc(prefix, isLetter) {
				prefix = ""
			}
			return i, prefix
		}
	}
	return -1, ""
}

// volatileIndex returns where in elems[i] the part that changes from run to run starts, or
// -1 when the name looks stable.
func volatileIndex(elems []string, i int) int {
	e := elems[i]
	at := -1
	consider := func(start int) {
		if at < 0 || start < at {
			at = start
		}
	}
	if loc := dottedVersion().FindStringIndex(e); loc != nil {
		consider(loc[0])
	}
	if loc := vNumber().FindStringSubmatchIndex(e); loc != nil {
		consider(loc[2])
	}
	if loc := hashAt(e); loc >= 0 {
		consider(loc)
	}
	if loc := digitRun().FindStringIndex(e); loc != nil {
		consider(loc[0])
	}
	if loc := mktemp().FindStringSubmatchIndex(e); loc != nil && strings.ContainsFunc(e[loc[2]:], isDigitOrUpper) {
		consider(loc[2])
	}
	if at < 0 && fanOut(elems, i) {
		at = 0
	}
	return at
}

// hashAt returns where the first run of 12 or more hex digits with a decimal digit among
// them starts, or -1.
func hashAt(e string) int {
	for _, loc := range hexRun().FindAllStringIndex(e, -1) {
		if strings.ContainsFunc(e[loc[0]:loc[1]], isDigit) {
			return loc[0]
		}
	}
	return -1
}

func isDigit(r rune) bool        { return '0' <= r && r <= '9' }
func isLetter(r rune) bool       { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
func isDigitOrUpper(r rune) bool { return isDigit(r) || 'A' <= r && r <= 'Z' }

// fanOut reports whether elems[i] is a two-hex-digit directory of a content-addressed store:
// followed by another such directory or by a hash.
func fanOut(elems []string, i int) bool {
	if !twoHex().MatchString(elems[i]) || i+1 >= len(elems) {
		return false
	}
	return hashAt(elems[i+1]) >= 0 || fanOut(elems, i+1)
}
