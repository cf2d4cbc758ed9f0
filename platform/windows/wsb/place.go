package wsb

import (
	"path"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// Place is a policy resolved for the host (the launcher's, with the host's home and
// workspace) placed on Env's stand-ins, as Compile needs it: each path rule is expanded
// again from its pattern as written (~/.ssh, $WORKSPACE/.env), with slashes whatever the
// host's separator; an absolute pattern (/usr/**) or one no profile could hold (agentrun's
// own runtime state, named in words) keeps its path, which has no Windows meaning and is
// not mapped. An env.set value under the host's home or workspace (either separator, case
// ignored as Windows does) moves to the stand-in. So a run maps what agentrun compile
// --target wsb PROFILE maps, plus the deny rules every launch adds. pol is not changed.
func Place(pol *profiles.Policy, home, workspace string) *profiles.Policy {
	out := *pol
	env := Env()
	fs := pol.Filesystem
	out.Filesystem = profiles.FilesystemPolicy{
		Read: placeRules(fs.Read, env), Write: placeRules(fs.Write, env), Deny: placeRules(fs.Deny, env),
		Protect: placeRules(fs.Protect, env), Review: placeRules(fs.Review, env), Sockets: placeRules(fs.Sockets, env),
	}
	out.Exec = profiles.ExecPolicy{Allow: placeRules(pol.Exec.Allow, env), Deny: placeRules(pol.Exec.Deny, env)}
	out.Env.Set = make([]profiles.EnvSetting, len(pol.Env.Set))
	for i, s := range pol.Env.Set {
		if rest, ok := hostUnder(s.Value, workspace); ok {
			s.Value = standInWorkspace + rest
		} else if rest, ok := hostUnder(s.Value, home); ok {
			s.Value = standInHome + rest
		}
		out.Env.Set[i] = s
	}
	return &out
}

func placeRules(rules []profiles.PathRule, env profiles.Env) []profiles.PathRule {
	if rules == nil {
		return nil
	}
	out := make([]profiles.PathRule, 0, len(rules))
	seen := map[string]bool{}
	for _, r := range rules {
		if p, ok := expandPattern(r.Pattern, env); ok {
			r.Path = p
		}
		if !seen[r.Path] {
			seen[r.Path] = true
			out = append(out, r)
		}
	}
	return out
}

// expandPattern expands a pattern that starts with ~ or a path variable for env, with
// slashes; ok is false for any other.
func expandPattern(pattern string, env profiles.Env) (string, bool) {
	var base, rest string
	switch {
	case pattern == "~" || strings.HasPrefix(pattern, "~/"):
		base, rest = env.Home, pattern[1:]
	case strings.HasPrefix(pattern, "$"):
		name, after, _ := strings.Cut(pattern[1:], "/")
		name = strings.TrimSuffix(strings.TrimPrefix(name, "{"), "}")
		vars := map[string]string{
			"HOME": env.Home, "WORKSPACE": env.Workspace, "TMPDIR": env.TmpDir,
			"XDG_CONFIG_HOME": env.ConfigHome, "XDG_DATA_HOME": env.DataHome,
			"XDG_STATE_HOME": env.StateHome, "XDG_CACHE_HOME": env.CacheHome,
		}
		v, known := vars[name]
		if !known {
			return "", false
		}
		base, rest = v, "/"+after
	default:
		return "", false
	}
	if strings.Contains(rest, "..") {
		return "", false
	}
	return path.Clean(base + rest), true
}

// hostUnder reports whether the host path p is dir or below it, and the rest with slashes
// ("" or "/..."). Both separators count, and case is ignored, as on Windows.
func hostUnder(p, dir string) (string, bool) {
	if dir == "" {
		return "", false
	}
	np := strings.ReplaceAll(p, `\`, "/")
	nd := strings.TrimSuffix(strings.ReplaceAll(dir, `\`, "/"), "/")
	if len(np) < len(nd) || !strings.EqualFold(np[:len(nd)], nd) {
		return "", false
	}
	if rest := np[len(nd):]; rest == "" || rest[0] == '/' {
		return rest, true
	}
	return "", false
}
