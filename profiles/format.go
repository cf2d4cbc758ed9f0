package profiles

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAML writes the policy as a self-contained profile: no extends, every path expanded, each
// rule commented with the file and line it came from. Parsing the result gives back the same
// policy (apart from origins).
func (p *Policy) YAML() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	root.HeadComment = fmt.Sprintf("Resolved profile %q: %s", p.Name, strings.Join(p.Chain, " → "))
	for _, w := range p.Warnings {
		root.HeadComment += "\nwarning: " + w.String()
	}
	if d := p.DefaultResources; d != (Resources{}) {
		root.HeadComment += "\ndefault limits, applied where agentrun can set cgroups: " + d.String()
	}
	add := func(m *yaml.Node, key string, v *yaml.Node) {
		m.Content = append(m.Content, str(key), v)
	}
	add(root, "name", str(p.Name))
	if p.Description != "" {
		add(root, "description", str(p.Description))
	}
	if len(p.Match) > 0 {
		add(root, "match", flowList(p.Match))
	}
	add(root, "mode", str(string(p.Mode)))
	if fs := section(map[string][]PathRule{"read": p.Filesystem.Read, "write": p.Filesystem.Write, "deny": p.Filesystem.Deny, "protect": p.Filesystem.Protect, "review": p.Filesystem.Review, "sockets": p.Filesystem.Sockets}, "read", "write", "deny", "protect", "review", "sockets"); fs != nil {
		add(root, "filesystem", fs)
	}
	if ex := section(map[string][]PathRule{"allow": p.Exec.Allow, "deny": p.Exec.Deny}, "allow", "deny"); ex != nil {
		add(root, "exec", ex)
	}
	if p.Network.None() {
		add(root, "network", str("none"))
	} else {
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, l := range []struct {
			key   string
			rules []NetRule
		}{{"allow", p.Network.Allow}, {"udp", p.Network.UDP}} {
			if len(l.rules) == 0 {
				continue
			}
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, r := range l.rules {
				item := str(r.String())
				item.LineComment = r.Origin.String()
				seq.Content = append(seq.Content, item)
			}
			add(n, l.key, seq)
		}
		add(root, "network", n)
	}
	if r := p.Resources; r != (Resources{}) {
		m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		if r.MemoryBytes != 0 {
			add(m, "memory", str(FormatBytes(r.MemoryBytes)))
		}
		if r.Pids != 0 {
			add(m, "pids", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(r.Pids, 10)})
		}
		if r.MilliCPU != 0 {
			add(m, "cpu", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(float64(r.MilliCPU)/1000, 'f', -1, 64)})
		}
		add(root, "resources", m)
	}
	if len(p.Env.Pass) > 0 || len(p.Env.Set) > 0 {
		e := &yaml.Node{Kind: yaml.MappingNode}
		if len(p.Env.Pass) > 0 {
			add(e, "pass", flowList(p.Env.Pass))
		}
		if len(p.Env.Set) > 0 {
			set := &yaml.Node{Kind: yaml.MappingNode}
			for _, s := range p.Env.Set {
				v := str(s.Value)
				v.Style = yaml.DoubleQuotedStyle
				v.LineComment = s.Origin.String()
				add(set, s.Name, v)
			}
			add(e, "set", set)
		}
		add(root, "env", e)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("writing the resolved profile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing the resolved profile: %w", err)
	}
	return buf.Bytes(), nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// section writes lists of path rules under their keys, in the order given, skipping empty ones.
func section(lists map[string][]PathRule, order ...string) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, key := range order {
		rules := lists[key]
		if len(rules) == 0 {
			continue
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range rules {
			item := str(r.Path)
			item.LineComment = r.Origin.String()
			seq.Content = append(seq.Content, item)
		}
		m.Content = append(m.Content, str(key), seq)
	}
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

// String lists the limits set, as "memory 8GiB, pids 8192, cpu 1.5", or "no limits".
func (r Resources) String() string {
	var parts []string
	if r.MemoryBytes != 0 {
		parts = append(parts, "memory "+FormatBytes(r.MemoryBytes))
	}
	if r.Pids != 0 {
		parts = append(parts, "pids "+strconv.FormatInt(r.Pids, 10))
	}
	if r.MilliCPU != 0 {
		parts = append(parts, "cpu "+strconv.FormatFloat(float64(r.MilliCPU)/1000, 'f', -1, 64))
	}
	if len(parts) == 0 {
		return "no limits"
	}
	return strings.Join(parts, ", ")
}

// FormatBytes writes a size in the largest binary unit that divides it.
func FormatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
