package launcher

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
)

// HomeWarnings are the warnings for the user's own profiles among those e is made of that
// name paths in the home directory no read or write rule makes visible (see
// profiles.HiddenHomeRules): one line per profile file, naming its first such rule and what
// to add. Profiles written when the home directory was readable protect or allow such paths;
// with the home by name they are absent in the sandbox. None for the built-in profiles, and
// none once a profile names what it needs.
func HomeWarnings(cat *profiles.Catalog, e *profiles.Entry, pol *profiles.Policy, env profiles.Env) []string {
	own, err := cat.OwnFiles(e)
	if err != nil || len(own) == 0 {
		return nil // Resolve has said what is wrong; the built-ins need no warning
	}
	home := env.Home
	if env.Canonical != nil && home != "" {
		home = env.Canonical(home)
	}
	hidden := profiles.HiddenHomeRules(pol, home, func(f string) bool { return own[f] })
	var files []string
	byFile := map[string][]profiles.HiddenHomeRule{}
	for _, h := range hidden {
		f := h.Rule.Origin.File
		if _, ok := byFile[f]; !ok {
			files = append(files, f)
		}
		byFile[f] = append(byFile[f], h)
	}
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, homeWarning(f, byFile[f], home))
	}
	return out
}

// homeWarning is the line for one profile file's hidden rules.
func homeWarning(file string, rules []profiles.HiddenHomeRule, home string) string {
	first := rules[0]
	more := ""
	if len(rules) > 1 {
		more = fmt.Sprintf(" (and %d more rules)", len(rules)-1)
	}
	var needs []string
	seen := map[string]bool{}
	for _, h := range rules {
		if n := homeSpelling(h.Need, home); !seen[n] {
			seen[n] = true
			needs = append(needs, yamlItem(n))
		}
	}
	return fmt.Sprintf("%s: %s %s%s names a path in your home directory that no read or write rule makes visible, and the sandbox shows only the home paths profiles name; add `filesystem.read: [%s]` to %s if the agent needs it, or remove the rule",
		display.Escape(first.Rule.Origin.String()), first.Section, display.Escape(first.Rule.Pattern), more, display.Escape(strings.Join(needs, ", ")), display.Escape(file))
}

// homeSpelling writes p, an absolute path, with ~ for the home directory.
func homeSpelling(p, home string) string {
	if home != "" && home != "/" && profiles.Within(p, home) {
		return "~" + p[len(home):]
	}
	return p
}

// yamlItem is s as an item of a YAML flow list: quoted when a character would end or change it.
func yamlItem(s string) string {
	if s == "" || strings.ContainsAny(s, ",[]{}#:&*!|>'\"%@` \t") {
		return strconv.Quote(s)
	}
	return s
}
