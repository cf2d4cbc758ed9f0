package launcher

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
)

// Describe writes the plan for a person: the profile, and what each part of the policy
// allows and denies.
func (p *Plan) Describe(w io.Writer) error {
	pol := p.Policy
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	fmt.Fprintf(tw, "agentrun plan\n")
	row("command", "%s (%s)", strings.Join(quoteArgs(p.Command), " "), p.Path)
	if p.unrunnable != nil {
		row("", "not run: %v", p.unrunnable)
	}
	row("profile", "%s (%s): %s", pol.Name, p.Source, strings.Join(pol.Chain, " → "))
	row("mode", "%s", pol.Mode)
	row("workspace", "%s", p.Workspace)
	fs := pol.Filesystem
	row("files", "%d read, %d write, %d deny, %d protect rules (agentrun profiles show %s --resolved lists them)", len(fs.Read), len(fs.Write), len(fs.Deny), len(fs.Protect), pol.Name)
	row("writable", "%s", summarize(paths(fs.Write), 6))
	row("exec", "%d allowed patterns, %d denied", len(pol.Exec.Allow), len(pol.Exec.Deny))
	if pol.Network.None() {
		row("network", "none (loopback only)")
	} else {
		hosts := make([]string, 0, len(pol.Network.Allow)+len(pol.Network.UDP))
		for _, r := range pol.Network.Allow {
			hosts = append(hosts, r.String())
		}
		for _, r := range pol.Network.UDP {
			hosts = append(hosts, "udp "+r.String())
		}
		row("network", "%d destinations: %s; cloud metadata always denied", len(hosts), summarize(hosts, 6))
	}
	row("resources", "%s", describeResources(pol))
	pass := pol.Env.Pass
	set := make([]string, len(pol.Env.Set))
	for i, s := range pol.Env.Set {
		set[i] = s.Name
	}
	row("env", "pass %s; set %s", summarize(pass, 8), summarize(set, 8))
	if dropped := DroppedEnv(pol, os.Environ()); len(dropped) > 0 {
		row("env dropped", "%s (they look like credentials; a profile passes one by naming it exactly in env.pass)", strings.Join(dropped, ", "))
	}
	p.describeLayers(tw)
	for _, n := range p.Notes {
		row("note", "%s", n)
	}
	for _, warn := range pol.Warnings {
		row("warning", "%s", warn)
	}
	for _, warn := range p.Warnings {
		row("warning", "%s", warn)
	}
	for _, l := range linkedDenied(pol) {
		row("warning", "%s", l)
	}
	return tw.Flush()
}

func paths(rules []profiles.PathRule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Path
	}
	return out
}

// summarize lists up to n items and says how many more there are.
func summarize(items []string, n int) string {
	if len(items) == 0 {
		return "nothing"
	}
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

func describeResources(pol *profiles.Policy) string {
	stated, def := pol.Resources, pol.DefaultResources
	switch {
	case def == (profiles.Resources{}) && stated == (profiles.Resources{}):
		return "no limits"
	case def == (profiles.Resources{}):
		return stated.String() + " (stated by the profile: required)"
	case stated == (profiles.Resources{}):
		return def.String() + " (defaults: applied where agentrun can set cgroups)"
	}
	return stated.String() + " (stated: required); " + def.String() + " (defaults: applied where agentrun can set cgroups)"
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`") {
			a = strconv.Quote(a)
		} else {
			a = display.Escape(a) // control bytes and bidi characters, without quotes
		}
		out[i] = a
	}
	return out
}
