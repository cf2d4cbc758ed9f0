package profiles

import (
	"fmt"
	"strings"
)

// Resolve merges a profile with everything it extends and expands its paths against env.
//
// Merge rules: the profiles in extends are applied first, left to right, each once even when
// reached twice; then the profile itself. Lists are unions in that order. Scalars (mode and
// each resource limit) take the last value set. env.set replaces a variable set earlier.
// "network: none" drops every network rule inherited so far. name, description and match are
// not inherited. A name in extends that equals the profile's own name refers to the profile it
// shadows (a user's "claude" can extend the built-in "claude").
func (c *Catalog) Resolve(e *Entry, env Env) (*Policy, error) {
	order, err := c.linearize(e)
	if err != nil {
		return nil, err
	}
	m := newMerger(e.File)
	for _, p := range order {
		m.apply(p.File)
	}
	return m.policy(env)
}

// linearize lists the profiles to apply, parents first, each once.
func (c *Catalog) linearize(root *Entry) ([]*Entry, error) {
	var (
		order []*Entry
		done  = map[*Entry]bool{}
		stack []*Entry
		errs  ErrorList
	)
	var visit func(e *Entry, via *Scalar)
	visit = func(e *Entry, via *Scalar) {
		for i, s := range stack {
			if s == e {
				names := make([]string, 0, len(stack)-i+1)
				for _, s := range stack[i:] {
					names = append(names, s.Name())
				}
				names = append(names, e.Name())
				errs = append(errs, &Error{Pos: via.Pos, Field: "extends", Msg: fmt.Sprintf("%s is a loop: these profiles extend each other; remove one of these extends", strings.Join(names, " → "))})
				return
			}
		}
		if done[e] {
			return
		}
		stack = append(stack, e)
		for i := range e.File.Extends {
			ext := &e.File.Extends[i]
			limit := LayerFile
			if ext.Value == e.Name() {
				limit = e.Layer
			}
			parent, err := c.lookupBelow(ext.Value, limit)
			if err != nil {
				errs = append(errs, &Error{Pos: ext.Pos, Field: fmt.Sprintf("extends[%d]", i), Msg: fmt.Sprintf("no profile named %q; agentrun profiles list shows the known ones", ext.Value)})
				continue
			}
			visit(parent, ext)
		}
		stack = stack[:len(stack)-1]
		done[e] = true
		order = append(order, e)
	}
	visit(root, nil)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return order, nil
}

// origPath is a path pattern with the place it was written.
type origPath struct {
	p      pathPattern
	raw    string
	origin Pos
}

type merger struct {
	root                   *File
	chain                  []string
	mode                   Mode
	read, write, deny      []origPath
	protect, exAllow, exDn []origPath
	review                 []origPath
	sockets                []origPath
	allow, udp             []NetRule
	res                    Resources
	pass                   []string
	set                    []EnvSetting
}

func newMerger(root *File) *merger {
	return &merger{root: root, mode: ModeEnforce}
}

func (m *merger) apply(f *File) {
	m.chain = append(m.chain, f.Name.Value)
	if f.Mode.Set {
		m.mode = Mode(f.Mode.Value)
	}
	paths := func(dst *[]origPath, items []Scalar) {
		for i := range items {
			*dst = append(*dst, origPath{f.checked.paths[&items[i]], items[i].Value, items[i].Pos})
		}
	}
	if fs := f.Filesystem; fs != nil {
		paths(&m.read, fs.Read)
		paths(&m.write, fs.Write)
		paths(&m.deny, fs.Deny)
		paths(&m.protect, fs.Protect)
		paths(&m.review, fs.Review)
		paths(&m.sockets, fs.Sockets)
	}
	if ex := f.Exec; ex != nil {
		paths(&m.exAllow, ex.Allow)
		paths(&m.exDn, ex.Deny)
	}
	if n := f.Network; n != nil {
		if n.None {
			m.allow, m.udp = nil, nil
		}
		for i := range n.Allow {
			m.allow = mergeRule(m.allow, f.checked.rules[&n.Allow[i]])
		}
		for i := range n.UDP {
			m.udp = mergeRule(m.udp, f.checked.rules[&n.UDP[i]])
		}
	}
	r := f.checked.res
	if r.MemoryBytes != 0 {
		m.res.MemoryBytes = r.MemoryBytes
	}
	if r.Pids != 0 {
		m.res.Pids = r.Pids
	}
	if r.MilliCPU != 0 {
		m.res.MilliCPU = r.MilliCPU
	}
	if env := f.Env; env != nil {
		for _, p := range env.Pass {
			if !contains(m.pass, p.Value) {
				m.pass = append(m.pass, p.Value)
			}
		}
		for _, v := range env.Set {
			s := EnvSetting{Name: v.Name.Value, Value: v.Value.Value, Origin: v.Name.Pos}
			replaced := false
			for i := range m.set {
				if m.set[i].Name == s.Name {
					m.set[i], replaced = s, true
				}
			}
			if !replaced {
				m.set = append(m.set, s)
			}
		}
	}
}

// mergeRule adds r to rules; a rule for the same destination gets the union of the ports.
func mergeRule(rules []NetRule, r NetRule) []NetRule {
	for i := range rules {
		if rules[i].key() == r.key() {
			rules[i].Ports = unionPorts(rules[i].Ports, r.Ports)
			return rules
		}
	}
	return append(rules, r)
}

func unionPorts(a, b []PortRange) []PortRange {
	out := append([]PortRange(nil), a...)
	for _, p := range b {
		if !containsRange(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func containsRange(rs []PortRange, p PortRange) bool {
	for _, r := range rs {
		if r.From <= p.From && p.To <= r.To {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (m *merger) policy(env Env) (*Policy, error) {
	// A variable that is set need not also be passed: set replaces the host's value.
	pass := m.pass[:0:0]
	for _, name := range m.pass {
		isSet := false
		for _, s := range m.set {
			isSet = isSet || s.Name == name
		}
		if !isSet {
			pass = append(pass, name)
		}
	}
	m.pass = pass
	p := &Policy{
		Name:      m.root.Name.Value,
		Chain:     m.chain,
		Mode:      m.mode,
		Network:   NetworkPolicy{Allow: m.allow, UDP: m.udp},
		Resources: m.res,
		Env:       EnvPolicy{Pass: m.pass, Set: append([]EnvSetting(nil), m.set...)},
	}
	p.Description = m.root.Description.Value
	for _, s := range m.root.Match {
		p.Match = append(p.Match, s.Value)
	}
	var errs ErrorList
	expand := func(in []origPath) []PathRule {
		out := make([]PathRule, 0, len(in))
		seen := map[string]bool{}
		for _, o := range in {
			path, err := env.expand(o.p)
			if err != nil {
				errs = append(errs, &Error{Pos: o.origin, Msg: fmt.Sprintf("%s: %v", o.raw, err)})
				continue
			}
			if !seen[path] {
				seen[path] = true
				out = append(out, PathRule{Path: path, Pattern: o.raw, Origin: o.origin})
			}
		}
		return out
	}
	p.Filesystem = FilesystemPolicy{Read: expand(m.read), Write: expand(m.write), Deny: expand(m.deny), Protect: expand(m.protect), Review: expand(m.review), Sockets: expand(m.sockets)}
	reviewIsWrite(&p.Filesystem)
	p.Exec = ExecPolicy{Allow: expand(m.exAllow), Deny: expand(m.exDn)}
	errs = append(errs, unmakeableWrites(p.Filesystem.Write)...)
	for i, s := range p.Env.Set {
		v, err := expandSetting(env, s.Value)
		if err != nil {
			errs = append(errs, &Error{Pos: s.Origin, Msg: fmt.Sprintf("env.set %s: %v", s.Name, err)})
			continue
		}
		p.Env.Set[i].Value = v
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	p.Warnings = dropShadowed(p)
	return p, nil
}

// dropShadowed removes from a merged policy the rules that another rule makes useless, so
// that backends get a minimal policy and its YAML form is a valid profile. Read rules for a
// path that is also written and protect rules for a denied path go silently (the other rule
// says more); rules at or inside a denied path, and exec.allow rules that exec.deny names,
// go with a warning: they are legal, since deny wins, but probably not what the author meant.
func dropShadowed(p *Policy) []Warning {
	var warnings []Warning
	// deny holds rules without globs only (exactOnly): a pattern shadows nothing here.
	denied := func(path string, deny []PathRule) *PathRule {
		for i, d := range deny {
			if Within(path, d.Path) {
				return &deny[i]
			}
		}
		return nil
	}
	filter := func(what string, rules []PathRule, deny []PathRule, silentSame bool) []PathRule {
		out := rules[:0]
		for _, r := range rules {
			d := denied(r.Path, deny)
			switch {
			case d == nil:
				out = append(out, r)
			case silentSame && d.Path == r.Path:
			default:
				warnings = append(warnings, Warning{Origin: r.Origin, Msg: fmt.Sprintf("%s %s has no effect: %s denies %s (deny wins)", what, r.Pattern, d.Origin, d.Pattern)})
			}
		}
		return out
	}
	fs := &p.Filesystem
	deny := exactOnly(fs.Deny)
	fs.Write = filter("write", fs.Write, deny, false)
	fs.Read = filter("read", fs.Read, deny, false)
	fs.Protect = filter("protect", fs.Protect, deny, true)
	fs.Review = filter("review", fs.Review, deny, false)
	p.Exec.Allow = filter("exec.allow", p.Exec.Allow, deny, false)
	p.Exec.Allow = filter("exec.allow", p.Exec.Allow, exactOnly(p.Exec.Deny), false)
	// A path that is written need not also be read.
	written := make(map[string]bool, len(fs.Write))
	for _, r := range fs.Write {
		written[r.Path] = true
	}
	out := fs.Read[:0]
	for _, r := range fs.Read {
		if !written[r.Path] {
			out = append(out, r)
		}
	}
	fs.Read = out
	return warnings
}

// exactOnly keeps the rules without globs; exec.deny shadows an allow only for the same path.
func exactOnly(rules []PathRule) []PathRule {
	var out []PathRule
	for _, r := range rules {
		if !IsPattern(r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// reviewIsWrite makes every review path writable: it joins the write rules (unless one
// covers it already) and leaves the protect rules for the same path, which it replaces (a profile
// extending one that protects a file can review it instead). A protect rule on a directory
// around it still wins, as it does over write.
func reviewIsWrite(fs *FilesystemPolicy) {
	for _, r := range fs.Review {
		covered := false
		for _, w := range fs.Write {
			covered = covered || !IsPattern(w.Path) && Within(r.Path, w.Path)
		}
		if !covered {
			fs.Write = append(fs.Write, r)
		}
		out := fs.Protect[:0]
		for _, p := range fs.Protect {
			if p.Path != r.Path {
				out = append(out, p)
			}
		}
		fs.Protect = out
	}
}
