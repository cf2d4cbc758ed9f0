package profiles

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/profiles/metadata"
)

// Mode is how a run treats what the policy denies.
type Mode string

// The modes a profile can ask for.
const (
	ModeEnforce Mode = "enforce" // denied accesses fail
	ModeAudit   Mode = "audit"   // denied accesses succeed and are recorded
)

// checked is what validation learnt about a file, kept for merging.
type checked struct {
	paths map[*Scalar]pathPattern
	rules map[*Scalar]NetRule
	res   Resources
}

// fileCheck is one validation rule over a decoded file, in the style of a validator list.
type fileCheck func(f *File, c *checked, e *errs)

var fileChecks = []fileCheck{
	checkName,
	checkDescription,
	checkExtends,
	checkMatch,
	checkMode,
	checkPaths,
	checkPathContradictions,
	checkNetwork,
	checkResources,
	checkEnv,
}

// learningChecks are the checks whose findings the merge reads (checked): a built-in profile
// decoded when agentrun was built runs only these at a launch, for every check passed on it
// when it was decoded (TestDecodedBuiltinsValid: the others only find mistakes).
var learningChecks = []fileCheck{
	checkPaths,
	checkNetwork,
	checkResources,
}

func validateFile(f *File, e *errs) { runChecks(f, e, fileChecks) }

func runChecks(f *File, e *errs, checks []fileCheck) {
	c := &checked{paths: map[*Scalar]pathPattern{}, rules: map[*Scalar]NetRule{}}
	for _, check := range checks {
		check(f, c, e)
	}
	f.checked = c
}

// wantString reports a value that YAML read as something other than a string.
func wantString(s *Scalar, field string, e *errs) bool {
	if s.Tag == "!!str" {
		return true
	}
	e.add(s.Pos, field, "must be a string, not %s; put it in quotes: \"%s\"", tagTypeNames[s.Tag], s.Value)
	return false
}

func checkName(f *File, _ *checked, e *errs) {
	switch {
	case !f.Name.Set:
		e.add(Pos{Line: 1, Col: 1}, "name", "is missing; every profile starts with \"name: NAME\"")
	case !wantString(&f.Name, "name", e):
	case f.Name.Value != strings.ToLower(f.Name.Value) && validName(strings.ToLower(f.Name.Value)):
		e.add(f.Name.Pos, "name", "%q has upper-case letters; names are lower-case, so write %s", f.Name.Value, strings.ToLower(f.Name.Value))
	case !validName(f.Name.Value):
		e.add(f.Name.Pos, "name", "%q is not a valid name; use 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", f.Name.Value)
	}
}

func checkDescription(f *File, _ *checked, e *errs) {
	if f.Description.Set && wantString(&f.Description, "description", e) && len(f.Description.Value) > 200 {
		e.add(f.Description.Pos, "description", "is %d characters long; keep it to one line of at most 200", len(f.Description.Value))
	}
}

func checkExtends(f *File, _ *checked, e *errs) {
	seen := map[string]int{}
	for i := range f.Extends {
		s := &f.Extends[i]
		field := fmt.Sprintf("extends[%d]", i)
		switch {
		case !wantString(s, field, e):
		case strings.ContainsAny(s.Value, "/\\") || strings.HasSuffix(s.Value, ".yaml"):
			e.add(s.Pos, field, "%q looks like a file; extends takes profile names: put the file in the profiles directory and write its name", s.Value)
		case !validName(s.Value):
			e.add(s.Pos, field, "%q is not a valid profile name", s.Value)
		case seen[s.Value] != 0:
			e.add(s.Pos, field, "%q is listed twice (first at line %d); list it once", s.Value, seen[s.Value])
		default:
			seen[s.Value] = s.Pos.Line
		}
	}
}

func checkMatch(f *File, _ *checked, e *errs) {
	seen := map[string]int{}
	for i := range f.Match {
		s := &f.Match[i]
		field := fmt.Sprintf("match[%d]", i)
		switch {
		case !wantString(s, field, e):
		case s.Value == "" || strings.ContainsAny(s.Value, "/ \t"):
			e.add(s.Pos, field, "%q: match compares the command's base name; write it without directories or spaces, e.g. %q", s.Value, baseName(s.Value))
		case seen[s.Value] != 0:
			e.add(s.Pos, field, "%q is listed twice (first at line %d); list it once", s.Value, seen[s.Value])
		default:
			seen[s.Value] = s.Pos.Line
		}
	}
}

func baseName(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "claude"
	}
	return strings.Fields(s)[0]
}

func checkMode(f *File, _ *checked, e *errs) {
	if !f.Mode.Set || !wantString(&f.Mode, "mode", e) {
		return
	}
	switch m := Mode(f.Mode.Value); {
	case m == "complain":
		e.add(f.Mode.Pos, "mode", "\"complain\" is called audit here; write audit (denied accesses succeed and are recorded) or enforce")
	case m != ModeEnforce && m != ModeAudit:
		e.add(f.Mode.Pos, "mode", "%q is not a mode; write enforce or audit", f.Mode.Value)
	}
}

// pathList is one list of paths in a file, with its field name.
type pathList struct {
	field string
	items []Scalar
}

func pathLists(f *File) []pathList {
	var l []pathList
	if fs := f.Filesystem; fs != nil {
		l = append(l, pathList{"filesystem.read", fs.Read}, pathList{"filesystem.write", fs.Write},
			pathList{"filesystem.deny", fs.Deny}, pathList{"filesystem.protect", fs.Protect},
			pathList{"filesystem.review", fs.Review},
			pathList{"filesystem.sockets", fs.Sockets})
	}
	if ex := f.Exec; ex != nil {
		l = append(l, pathList{"exec.allow", ex.Allow}, pathList{"exec.deny", ex.Deny})
	}
	return l
}

func checkPaths(f *File, c *checked, e *errs) {
	for _, l := range pathLists(f) {
		seen := map[string]int{}
		for i := range l.items {
			s := &l.items[i]
			field := fmt.Sprintf("%s[%d]", l.field, i)
			if !wantString(s, field, e) {
				continue
			}
			p, err := parsePath(s.Value)
			if err != nil {
				e.add(s.Pos, field, "%v", err)
				continue
			}
			if line, dup := seen[p.key()]; dup {
				e.add(s.Pos, field, "%s is listed twice (first at line %d); list it once", p, line)
				continue
			}
			seen[p.key()] = s.Pos.Line
			if HasNegation(p.Rest) && l.field != "filesystem.deny" {
				e.add(s.Pos, field, "%q: !(...) (every name but those listed) is for filesystem.deny rules only, where the exception stays inside the deny; here name the paths, with * or ** where a pattern is needed", s.Value)
				continue
			}
			if p.Var == "" && strings.HasPrefix(p.Rest, "/"+negOpen) {
				e.add(s.Pos, field, "%q would cover nearly the whole system; name the directories to deny instead", s.Value)
				continue
			}
			if l.field == "filesystem.sockets" && strings.Contains(s.Value, "*") {
				e.add(s.Pos, field, "%q is a pattern; name each socket by its exact path", s.Value)
				continue
			}
			if p.Var == "" && (p.Rest == "" || p.Rest == "/*" || p.Rest == "/**") && (l.field == "filesystem.write" || l.field == "filesystem.deny") {
				e.add(s.Pos, field, "%q would cover the whole system; name the directories instead", s.Value)
				continue
			}
			if l.field == "filesystem.review" && strings.Contains(s.Value, "*") {
				e.add(s.Pos, field, "%q: review takes the paths of files, without * or **", s.Value)
				continue
			}
			c.paths[s] = p
		}
	}
}

// checkPathContradictions rejects, within one file, a path given two accesses that cannot both
// hold, such as written and denied, or allowed inside a denied directory.
func checkPathContradictions(f *File, c *checked, e *errs) {
	if f.Filesystem == nil && f.Exec == nil {
		return
	}
	// An entry's field (list[i]) is written out only for an error.
	type entry struct {
		s    *Scalar
		list string
		i    int
		p    pathPattern
		key  string
	}
	field := func(x entry) string { return fmt.Sprintf("%s[%d]", x.list, x.i) }
	collect := func(list string, items []Scalar) []entry {
		var out []entry
		for i := range items {
			if p, ok := c.paths[&items[i]]; ok {
				out = append(out, entry{&items[i], list, i, p, p.key()})
			}
		}
		return out
	}
	var read, write, deny, protect, review, execAllow, execDeny []entry
	if fs := f.Filesystem; fs != nil {
		read, write = collect("filesystem.read", fs.Read), collect("filesystem.write", fs.Write)
		deny, protect = collect("filesystem.deny", fs.Deny), collect("filesystem.protect", fs.Protect)
		review = collect("filesystem.review", fs.Review)
	}
	if ex := f.Exec; ex != nil {
		execAllow, execDeny = collect("exec.allow", ex.Allow), collect("exec.deny", ex.Deny)
	}
	same := func(a, b []entry, why string) {
		byKey := make(map[string]entry, len(b))
		for _, y := range b {
			byKey[y.key] = y
		}
		for _, x := range a {
			if y, ok := byKey[x.key]; ok {
				e.add(x.s.Pos, field(x), "%s is also in %s (line %d); %s", x.p, y.list, y.s.Pos.Line, why)
			}
		}
	}
	same(read, write, "write access includes read, so remove it from read")
	same(protect, deny, "deny already makes it unreadable, so remove it from protect")
	same(review, protect, "review makes it writable with its program keys held back, so remove it from protect")
	same(execAllow, execDeny, "remove it from one of the two")
	for _, d := range deny {
		if d.p.hasGlob() {
			continue // nothing is under a pattern by its spelling (see under)
		}
		for _, group := range [][]entry{read, write, protect, review, execAllow} {
			for _, x := range group {
				switch {
				case !x.p.under(d.p):
				case x.key != d.key:
					e.add(x.s.Pos, field(x), "%s is inside %s, which filesystem.deny (line %d) hides completely; remove one of the two", x.p, d.p, d.s.Pos.Line)
				case x.list != "filesystem.protect": // protect and deny: reported above
					e.add(x.s.Pos, field(x), "%s is also in filesystem.deny (line %d), which hides it completely; remove one of the two", x.p, d.s.Pos.Line)
				}
			}
		}
	}
}

func checkNetwork(f *File, c *checked, e *errs) {
	n := f.Network
	if n == nil || n.None {
		return
	}
	check := func(field string, items []Scalar, udp bool) {
		seen := map[string]*Scalar{}
		for i := range items {
			s := &items[i]
			field := fmt.Sprintf("%s[%d]", field, i)
			if s.Tag == "!!int" && i > 0 && s.Pos.Line == items[i-1].Pos.Line {
				// [api.example.com:443,80]: the comma ended the entry.
				e.add(s.Pos, field, "%s is a port on its own; in [...] a comma starts a new entry, so put an entry with several ports in quotes: \"%s,%s\"", s.Value, items[i-1].Value, s.Value)
				continue
			}
			if !wantString(s, field, e) {
				continue
			}
			r, err := parseNetRule(s.Value, udp)
			if err != nil {
				e.add(s.Pos, field, "%v", err)
				continue
			}
			if first, dup := seen[r.key()]; dup {
				merged := c.rules[first]
				merged.Ports = unionPorts(merged.Ports, r.Ports)
				sort.Slice(merged.Ports, func(i, j int) bool { return merged.Ports[i].From < merged.Ports[j].From })
				e.add(s.Pos, field, "%s is listed twice (first at line %d); put all its ports in one entry: %s", r.key(), first.Pos.Line, merged)
				continue
			}
			seen[r.key()] = s
			r.Origin = s.Pos
			c.rules[s] = r
		}
	}
	check("network.allow", n.Allow, false)
	check("network.udp", n.UDP, true)
}

func checkResources(f *File, c *checked, e *errs) {
	r := f.Resources
	if r == nil {
		return
	}
	var err error
	if r.Memory.Set {
		if c.res.MemoryBytes, err = parseMemory(r.Memory); err != nil {
			e.add(r.Memory.Pos, "resources.memory", "%v", err)
		}
	}
	if r.Pids.Set {
		if c.res.Pids, err = parsePids(r.Pids); err != nil {
			e.add(r.Pids.Pos, "resources.pids", "%v", err)
		}
	}
	if r.CPU.Set {
		if c.res.MilliCPU, err = parseCPU(r.CPU); err != nil {
			e.add(r.CPU.Pos, "resources.cpu", "%v", err)
		}
	}
}

func checkEnv(f *File, _ *checked, e *errs) {
	env := f.Env
	if env == nil {
		return
	}
	passed := map[string]int{}
	for i := range env.Pass {
		s := &env.Pass[i]
		field := fmt.Sprintf("env.pass[%d]", i)
		name := strings.TrimSuffix(s.Value, "*")
		switch {
		case !wantString(s, field, e):
		case s.Value == "*":
			e.add(s.Pos, field, "\"*\" would pass the whole environment, secrets included; list the variables the agent needs")
		case !validEnvName(name):
			e.add(s.Pos, field, "%q is not a variable name; use letters, digits and _, with an optional * at the end (LC_*)", s.Value)
		case metadata.DeniedEnv(name):
			e.add(s.Pos, field, "%s points at a cloud-metadata or orchestrator service; it is always removed and cannot be passed", s.Value)
		case passed[s.Value] != 0:
			e.add(s.Pos, field, "%s is listed twice (first at line %d); list it once", s.Value, passed[s.Value])
		default:
			passed[s.Value] = s.Pos.Line
		}
	}
	for _, v := range env.Set {
		field := "env.set." + v.Name.Value
		switch {
		case !validEnvName(v.Name.Value):
			e.add(v.Name.Pos, field, "%q is not a variable name; use letters, digits and _", v.Name.Value)
		case metadata.DeniedEnv(v.Name.Value):
			e.add(v.Name.Pos, field, "%s points at a cloud-metadata or orchestrator service; it is always removed and cannot be set", v.Name.Value)
		case passed[v.Name.Value] != 0:
			e.add(v.Name.Pos, field, "%s is also in env.pass (line %d); set replaces the host's value, so remove it from pass", v.Name.Value, passed[v.Name.Value])
		case strings.ContainsRune(v.Value.Value, 0):
			e.add(v.Value.Pos, field, "the value contains a NUL byte, which no environment can hold")
		}
	}
}

// validName reports whether s is a profile name: [a-z0-9][a-z0-9._-]{0,63}.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// validEnvName reports whether s is an environment variable name: [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}
