package profiles

// ReasonNotCovered is CheckFile's reason for a path that no filesystem rule covers: the
// sandbox does not show it, so for the agent it does not exist (ENOENT).
const ReasonNotCovered = "no filesystem rule covers it"

// HiddenHomeRule is a rule of one of the user's own profiles that names a path in the home
// directory which no read or write rule of the resolved policy makes visible: written when
// the home directory was readable, it now protects or allows something the agent cannot
// see (the home directory is absent in the sandbox but for the paths profiles name).
type HiddenHomeRule struct {
	Section string // "filesystem.protect" or "exec.allow"
	Rule    PathRule
	// Need is what a filesystem.read rule must name for the rule to apply again: the
	// rule's path, or for a pattern the directory above its first wildcard (GlobBase).
	Need string
}

// HiddenHomeRules lists, in the order of the policy's rules, the filesystem.protect and
// exec.allow rules written in a file that own reports as the user's (not built in) whose
// path lies inside home (the canonical home directory, not home itself) and that no
// filesystem.read or filesystem.write rule of pol covers. filesystem.deny rules are never
// listed: a deny of a path the agent cannot see still holds if a later rule shows it, and the
// only fix it could suggest is a wider read beside a secret. Built-in rules are never
// listed: the built-in profiles name what they need.
func HiddenHomeRules(pol *Policy, home string, own func(file string) bool) []HiddenHomeRule {
	if home == "" || home == "/" {
		return nil
	}
	fs := pol.Filesystem
	visible := func(p string) bool {
		for _, rules := range [][]PathRule{fs.Read, fs.Write} {
			if _, ok := covering(rules, p); ok {
				return true
			}
		}
		return false
	}
	var out []HiddenHomeRule
	for _, s := range []struct {
		section string
		rules   []PathRule
	}{{"filesystem.protect", fs.Protect}, {"exec.allow", pol.Exec.Allow}} {
		for _, r := range s.rules {
			need := GlobBase(r.Path)
			if r.OwnFiles() || !own(r.Origin.File) || need == home || !Within(need, home) || visible(need) {
				continue
			}
			out = append(out, HiddenHomeRule{Section: s.section, Rule: r, Need: need})
		}
	}
	return out
}

// OwnFiles lists the files of the user's profiles (not built in) that e is made of: e's own
// and those it extends, directly or not.
func (c *Catalog) OwnFiles(e *Entry) (map[string]bool, error) {
	order, err := c.linearize(e)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range order {
		if p.Layer != LayerBuiltin {
			out[p.File.Source] = true
		}
	}
	return out, nil
}
