package windows

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/platform/windows/acl"
	"github.com/agentrun/agentrun/platform/windows/appcontainer"
	"github.com/agentrun/agentrun/profiles"
)

// plan is what one run of a policy asks of Windows: the AppContainer the agent runs in, the
// ACEs that container's SID gets for the run, the Job Object's limits, and whether the agent
// reaches agentrun's proxy on the loopback. Paths are Windows paths (C:\...).
type plan struct {
	Profile   string      // the agentrun profile's name
	Container string      // the AppContainer profile's name (one per agentrun profile)
	Grants    []acl.Grant // allows first, then denies, in the order applied
	// Traverse are the directories above the grants inside the home, given Traverse (read
	// their attributes, pass through) so that tools walking up a path (git looking for a
	// repository) see them; best effort, never a reason to stop.
	Traverse []string
	Limits   appcontainer.Limits
	Network  bool // the policy allows some network: the agent reaches agentrun's proxy
	Audit    bool // audit mode: the agent runs outside any container, nothing is denied
	// Unmapped are rules with no Windows meaning (Unix paths such as /usr or /etc): there is
	// nothing of them on a Windows host to grant or deny.
	Unmapped []profiles.PathRule
	// Notes say where a rule is kept less exactly than written, for --dry-run and the run.
	Notes []string
}

// fileView is what planning reads of the host's files (a fixed host in tests). Paths are
// written with forward slashes (C:/Users/me).
type fileView interface {
	// Stat says whether path exists and is a directory, without following a final link.
	Stat(path string) (exists, dir bool)
	// List names the entries of a directory.
	List(dir string) ([]string, error)
}

// planFor plans a run of pol: exe is the agent's executable (its directory is granted read
// and execute when no rule reaches it and it is not the system's), home the user's profile
// directory, both Windows paths. place maps a rule's path, slashed, to the Windows path it
// names (winPath on a Windows host, where the launcher resolved the profile).
func planFor(pol *profiles.Policy, exe, home string, fv fileView, place func(string) (string, bool)) *plan {
	p := &plan{
		Profile:   pol.Name,
		Container: containerName(pol.Name),
		Limits:    limitsOf(pol.Resources.With(pol.DefaultResources)),
		Network:   !pol.Network.None(),
		Audit:     pol.Mode == profiles.ModeAudit,
	}
	pl := planner{p: p, fv: fv, home: slashed(home), place: place}
	pl.denies = pl.mapped(pol.Filesystem.Deny)
	execAllow := pl.mapped(pol.Exec.Allow)
	writes := pl.mapped(pol.Filesystem.Write)
	reads := pl.mapped(pol.Filesystem.Read)
	protects := pl.mapped(pol.Filesystem.Protect)

	for _, r := range writes {
		pl.allow(r, acl.Write, acl.WriteExecute, execAllow)
	}
	for _, r := range reads {
		pl.allow(r, acl.Read, acl.ReadExecute, execAllow)
	}
	if dir, ok := winPath(parentOf(slashed(exe))); ok && !pl.reached(dir) && !systemDir(dir) && pl.denied(dir) == nil {
		p.Grants = append(p.Grants, acl.Grant{Path: native(dir), Access: acl.ReadExecute, Inherit: true})
		pl.roots = append(pl.roots, root{path: dir})
		p.Notes = append(p.Notes, fmt.Sprintf("%s: read and run, the agent's own program's directory (no rule names it)", native(dir)))
	}
	for _, r := range pl.denies {
		pl.deny(r)
	}
	for _, r := range protects {
		pl.protect(r)
	}
	p.Traverse = pl.traverse()
	return p
}

// root is a granted directory or file.
type root struct {
	path  string // slashed
	write bool
}

type planner struct {
	p      *plan
	fv     fileView
	home   string
	roots  []root
	denies []profiles.PathRule
	place  func(string) (string, bool)
}

// mapped returns the rules that name Windows paths, slashed; the others go to Unmapped.
func (pl *planner) mapped(rules []profiles.PathRule) []profiles.PathRule {
	var out []profiles.PathRule
	for _, r := range rules {
		s, ok := pl.place(slashed(r.Path))
		if !ok {
			pl.p.Unmapped = append(pl.p.Unmapped, r)
			continue
		}
		r.Path = s
		out = append(out, r)
	}
	return out
}

// allow grants each existing path rule r names, with exec when an exec.allow rule covers it
// (writable is not executable, as on Linux); an exec.allow pattern inside it whose directory
// exists makes that directory executable too.
func (pl *planner) allow(r profiles.PathRule, plain, withExec acl.Access, execAllow []profiles.PathRule) {
	for _, path := range pl.expand(r) {
		if pl.reached(path) {
			continue
		}
		if d := pl.denied(path); d != nil {
			pl.p.Notes = append(pl.p.Notes, fmt.Sprintf("%s: not granted, %s denies it", native(path), origin(*d)))
			continue
		}
		exists, dir := pl.fv.Stat(path)
		if !exists {
			continue // nothing to grant: a rule for what is not there
		}
		a := plain
		if covered(execAllow, path) {
			a = withExec
		}
		for _, x := range execAllow {
			if a == plain && profiles.IsPattern(x.Path) && profiles.GlobBase(x.Path) == path {
				a = withExec
				pl.p.Notes = append(pl.p.Notes, fmt.Sprintf("%s: run allowed in all of %s (an ACL names a directory, not a pattern)", origin(x), native(path)))
			}
		}
		pl.p.Grants = append(pl.p.Grants, acl.Grant{Path: native(path), Access: a, Inherit: dir})
		pl.roots = append(pl.roots, root{path: path, write: plain == acl.Write})
		if a == withExec || !dir {
			continue
		}
		for _, x := range execAllow {
			base := profiles.GlobBase(x.Path)
			if base == path || !within(base, path) {
				continue
			}
			if ok, isDir := pl.fv.Stat(base); ok && isDir {
				pl.p.Grants = append(pl.p.Grants, acl.Grant{Path: native(base), Access: withExec, Inherit: true})
				if base != x.Path && x.Path != base+"/**" {
					pl.p.Notes = append(pl.p.Notes, fmt.Sprintf("%s: run allowed in all of %s (an ACL names a directory, not a pattern)", origin(x), native(base)))
				}
			}
		}
	}
}

// deny puts a deny-everything ACE on what r names inside a granted root; outside them the
// container reaches nothing of the user's anyway.
func (pl *planner) deny(r profiles.PathRule) {
	inside := false
	for _, path := range pl.expand(r) {
		if !pl.reached(path) {
			continue
		}
		inside = true
		if exists, dir := pl.fv.Stat(path); exists {
			pl.p.Grants = append(pl.p.Grants, acl.Grant{Path: native(path), Access: acl.DenyAll, Inherit: dir})
		}
	}
	if inside && profiles.IsPattern(r.Path) {
		pl.p.Notes = append(pl.p.Notes, fmt.Sprintf("%s: denied as the files that match it at launch (an ACL names files, not a pattern)", origin(r)))
	}
}

// protect keeps what r names inside a write root from being written, deleted or renamed:
// deny-write on it and deny-delete on every directory between it and the root (an ACE moves
// with a renamed parent, so the parents must not move). A protected path missing at launch
// cannot carry an ACE: the launcher quarantines it after the run if the agent made it.
func (pl *planner) protect(r profiles.PathRule) {
	for _, path := range pl.expand(r) {
		w, ok := pl.writeRootOf(path)
		if !ok || w == path {
			continue
		}
		exists, dir := pl.fv.Stat(path)
		if !exists {
			continue // no file to hold an ACE: the launcher moves it aside after the run if the agent makes it, as on Linux
		}
		pl.p.Grants = append(pl.p.Grants, acl.Grant{Path: native(path), Access: acl.DenyWrite, Inherit: dir})
		for a := parentOf(path); a != w && within(a, w); a = parentOf(a) {
			pl.p.Grants = append(pl.p.Grants, acl.Grant{Path: native(a), Access: acl.DenyDelete})
		}
	}
}

// writeRootOf is the write root path is in, if any.
func (pl *planner) writeRootOf(path string) (string, bool) {
	for _, r := range pl.roots {
		if r.write && within(path, r.path) {
			return r.path, true
		}
	}
	return "", false
}

// reached reports whether a granted root holds path.
func (pl *planner) reached(path string) bool {
	for _, r := range pl.roots {
		if within(path, r.path) {
			return true
		}
	}
	return false
}

// denied is the deny rule that covers path, or nil.
func (pl *planner) denied(path string) *profiles.PathRule {
	for i, d := range pl.denies {
		if profiles.PatternCovers(strings.ToLower(d.Path), strings.ToLower(path)) {
			return &pl.denies[i]
		}
	}
	return nil
}

// expand lists the paths a rule names: itself when it has no wildcard, DIR for DIR/**, and
// otherwise the existing paths whose every element matches.
func (pl *planner) expand(r profiles.PathRule) []string {
	if !profiles.IsPattern(r.Path) {
		return []string{r.Path}
	}
	if base, ok := strings.CutSuffix(r.Path, "/**"); ok && !profiles.IsPattern(base) {
		return []string{base}
	}
	base := profiles.GlobBase(r.Path)
	paths := []string{base}
	for _, el := range strings.Split(strings.TrimPrefix(r.Path[len(base):], "/"), "/") {
		var next []string
		for _, dir := range paths {
			names, err := pl.fv.List(dir)
			if err != nil {
				continue
			}
			for _, n := range names {
				if profiles.MatchElement(strings.ReplaceAll(el, "**", "*"), n) {
					next = append(next, dir+"/"+n)
				}
			}
		}
		paths = next
	}
	sort.Strings(paths)
	return paths
}

// traverse lists the directories between the home and each granted root below it, the home
// included, each once.
func (pl *planner) traverse() []string {
	if pl.home == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range pl.roots {
		for a := parentOf(r.path); within(a, pl.home); a = parentOf(a) {
			if !seen[a] && !pl.reached(a) {
				seen[a] = true
				out = append(out, native(a))
			}
			if a == pl.home {
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// covered reports whether a rule of rules covers path.
func covered(rules []profiles.PathRule, path string) bool {
	for _, r := range rules {
		if profiles.PatternCovers(strings.ToLower(r.Path), strings.ToLower(path)) {
			return true
		}
	}
	return false
}

// within is profiles.Within without regard to case, as Windows compares names.
func within(path, dir string) bool {
	return profiles.Within(strings.ToLower(path), strings.ToLower(dir))
}

// slashed writes a path with forward slashes, as the policy's patterns are matched.
func slashed(p string) string { return strings.ReplaceAll(p, `\`, "/") }

// native writes a slashed path with backslashes.
func native(p string) string { return strings.ReplaceAll(p, "/", `\`) }

// winPath reports whether a slashed path is a Windows path with a drive (C:/...) or a UNC
// share (//server/share/...), and returns it with the drive letter in upper case and no
// trailing slash but the root's.
func winPath(p string) (string, bool) {
	switch {
	case len(p) >= 3 && p[1] == ':' && p[2] == '/' && isLetter(p[0]):
		p = strings.ToUpper(p[:1]) + p[1:]
		if len(p) > 3 {
			p = strings.TrimSuffix(p, "/")
		}
		return p, true
	case strings.HasPrefix(p, "//") && len(p) > 2 && p[2] != '/' && strings.Count(strings.TrimSuffix(p[2:], "/"), "/") >= 1:
		return strings.TrimSuffix(p, "/"), true
	}
	return "", false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parentOf is the directory holding a slashed Windows path (C:/ for C:/x, itself at a root).
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return p
	case i == 2 && p[1] == ':':
		return p[:3]
	case i <= 2:
		return p
	}
	return p[:i]
}

// systemDir reports whether dir is one every AppContainer may already read and run (the
// Windows directory and the program directories grant ALL APPLICATION PACKAGES read and
// execute), so that the agent's program there needs no grant.
func systemDir(dir string) bool {
	d := strings.ToLower(dir)
	for _, s := range []string{"c:/windows", "c:/program files", "c:/program files (x86)"} {
		if profiles.Within(d, s) {
			return true
		}
	}
	return false
}

// origin names a rule as its profile wrote it and where.
func origin(r profiles.PathRule) string {
	if r.Origin.File == "" {
		return r.Pattern
	}
	return fmt.Sprintf("%s (%s)", r.Pattern, r.Origin)
}

// limitsOf is the Job Object's share of a policy's resources.
func limitsOf(r profiles.Resources) appcontainer.Limits {
	return appcontainer.Limits{MemoryBytes: r.MemoryBytes, Processes: r.Pids, MilliCPU: r.MilliCPU}
}

// containerName is the AppContainer profile a policy's runs share: "agentrun.NAME", with the
// characters an AppContainer name cannot hold ([-_. A-Za-z0-9] only, at most 64) replaced,
// and a hash of the real name when anything was changed or cut, so that two profiles never
// share a container.
func containerName(profile string) string {
	var b strings.Builder
	changed := false
	for _, r := range profile {
		if r == '-' || r == '_' || r == '.' || r < 0x80 && (isLetter(byte(r)) || r >= '0' && r <= '9') {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('_')
		changed = true
	}
	name := "agentrun." + b.String()
	if !changed && len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(profile))
	suffix := "." + hex.EncodeToString(sum[:4])
	if len(name) > 64-len(suffix) {
		name = name[:64-len(suffix)]
	}
	return name + suffix
}

// runnable says why the container would not run exe, or nil: exe lies in a grant without
// execute (a write or read root exec.allow does not cover).
func (p *plan) runnable(exe string) error {
	s, ok := winPath(slashed(exe))
	if !ok {
		return nil
	}
	var best *acl.Grant
	for i, g := range p.Grants {
		gp := slashed(g.Path)
		if within(s, gp) && (best == nil || len(gp) >= len(slashed(best.Path))) {
			best = &p.Grants[i] // the nearest; a deny after an allow on one path wins
		}
	}
	switch {
	case best == nil || best.Access == acl.ReadExecute || best.Access == acl.WriteExecute:
		return nil
	case best.Access.Deny():
		return fmt.Errorf("%s is denied to the agent by the profile %s (agentrun profiles show %s --resolved shows the rules)", native(s), p.Profile, p.Profile)
	}
	return fmt.Errorf("%s is in %s, which the profile %s lets the agent %s but not run programs from (writable is not executable); add it to exec.allow in a profile of yours (agentrun profiles show %s --resolved shows the rules), or run an installed copy",
		native(s), best.Path, p.Profile, best.Access, p.Profile)
}
