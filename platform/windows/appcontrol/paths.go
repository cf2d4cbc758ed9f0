package appcontrol

import (
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// The placeholders a profile is resolved with (Env): Linux-shaped paths standing for the
// Windows home, workspace and temporary directory, which only a Mapping can place.
const (
	phHome      = "/agentrun-windows-home"
	phWorkspace = "/agentrun-windows-workspace"
	phTmp       = "/agentrun-windows-tmp"
)

// Env is the expansion environment of a policy compiled for Windows: placeholders for the
// home, workspace and temporary directory, the XDG directories under the home.
func Env() profiles.Env {
	return profiles.Env{
		Home:       phHome,
		Workspace:  phWorkspace,
		TmpDir:     phTmp,
		ConfigHome: phHome + "/.config",
		DataHome:   phHome + "/.local/share",
		StateHome:  phHome + "/.local/state",
		CacheHome:  phHome + "/.cache",
	}
}

// Mapping places a resolved Linux path prefix on Windows: every path at or under Linux is
// Windows followed by the rest, its slashes turned to backslashes.
type Mapping struct {
	Linux   string
	Windows string
}

// ParseMapping reads LINUX=WINDOWS as the --windows-path flag gives it. LINUX is an absolute
// path or starts with ~, $WORKSPACE or $TMPDIR; WINDOWS is a drive path (C:\Users\ada) or
// starts with one of the macros both AppLocker and App Control accept (%OSDRIVE%, %WINDIR%,
// %SYSTEM32%).
func ParseMapping(s string) (Mapping, error) {
	l, w, ok := strings.Cut(s, "=")
	if !ok {
		return Mapping{}, fmt.Errorf("%q is not LINUX=WINDOWS", s)
	}
	for _, ph := range []struct{ name, path string }{{"~", phHome}, {"$HOME", phHome}, {"$WORKSPACE", phWorkspace}, {"$TMPDIR", phTmp}} {
		if l == ph.name || strings.HasPrefix(l, ph.name+"/") {
			l = ph.path + l[len(ph.name):]
		}
	}
	if !strings.HasPrefix(l, "/") || strings.ContainsAny(l, "*?[{") {
		return Mapping{}, fmt.Errorf("%q: the Linux side is an absolute path without globs, or starts with ~, $WORKSPACE or $TMPDIR", s)
	}
	if !windowsPathRE().MatchString(w) || strings.ContainsAny(w, "*?") {
		return Mapping{}, fmt.Errorf("%q: the Windows side is a drive path such as C:\\Users\\ada, or starts with %%OSDRIVE%%, %%WINDIR%% or %%SYSTEM32%%, without wildcards", s)
	}
	return Mapping{Linux: strings.TrimSuffix(l, "/"), Windows: strings.TrimSuffix(w, `\`)}, nil
}

// windowsPathRE is an absolute Windows path, or one under a macro that both AppLocker's path
// variables and App Control's FilePath macros know (select-types-of-rules-to-create.md:
// "%OSDRIVE%, %WINDIR%, %SYSTEM32%").
var windowsPathRE = profiles.LazyRegexp(`^([A-Za-z]:\\|%OSDRIVE%|%WINDIR%|%SYSTEM32%)`)

// programFiles is C:\Program Files as both formats can say it: App Control's FilePath has
// no %PROGRAMFILES% macro.
const programFiles = `%OSDRIVE%\Program Files`

// Toolchain is where the programs the built-in profiles allow live on Windows, by the Linux
// locations the profiles name. Home-relative entries need the home mapped (~=C:\Users\NAME).
//
//   - /usr/bin, /bin, /usr/lib, …: the operating system's programs, %WINDIR% (AppLocker's
//     default rule "All files located in the Windows folder").
//   - /usr/local, /opt: installed programs, C:\Program Files (AppLocker's default rule "All
//     files located in the Program Files folder"): Git for Windows (C:\Program Files\Git),
//     Node.js's installer (C:\Program Files\nodejs), Python's all-users install.
//   - /usr/local/go: the Go installer's C:\Program Files\Go (go.dev/doc/install).
//   - npm's global prefix on Windows is %APPDATA%\npm (docs.npmjs.com, "folders": "{prefix}
//     … on Windows, %AppData%\npm"): ~/.npm-global and /usr/local/lib/node_modules.
//   - Go's build cache on Windows is %LocalAppData%\go-build (go help cache, os.UserCacheDir).
var Toolchain = []Mapping{
	{"/usr/bin", `%WINDIR%`}, {"/usr/sbin", `%WINDIR%`}, {"/bin", `%WINDIR%`}, {"/sbin", `%WINDIR%`},
	{"/usr/lib", `%WINDIR%`}, {"/usr/libexec", `%WINDIR%`}, {"/lib", `%WINDIR%`}, {"/lib64", `%WINDIR%`},
	{"/usr/local/bin", programFiles}, {"/usr/local/lib", programFiles}, {"/opt", programFiles},
	{"/usr/local/go", programFiles + `\Go`},
	{"/usr/local/lib/node_modules", phHome + `/AppData/Roaming/npm/node_modules`},
	{phHome + "/.npm-global", phHome + `/AppData/Roaming/npm`},
	{phHome + "/.cache/go-build", phHome + `/AppData/Local/go-build`},
}

// mapper turns resolved Linux paths into Windows paths.
type mapper struct {
	user  []Mapping // --windows-path, first
	table []Mapping // Toolchain
	// linuxHome is the home of the host the events were recorded on: its programs map as
	// the placeholder home's.
	linuxHome string
}

// lookup maps p by the longest matching prefix, the user's mappings winning a tie. A
// table entry that leads into a placeholder is mapped again through the user's mappings.
// ok is false when nothing maps p; placeholder then names the unmapped placeholder, if any.
func (m mapper) lookup(p string) (win string, ok bool, placeholder string) {
	if m.linuxHome != "" && within(p, m.linuxHome) {
		p = phHome + p[len(m.linuxHome):]
	}
	var best *Mapping
	for _, set := range [][]Mapping{m.user, m.table} {
		for i, mp := range set {
			if within(p, mp.Linux) && (best == nil || len(mp.Linux) > len(best.Linux)) {
				best = &set[i]
			}
		}
	}
	if best != nil {
		rest := p[len(best.Linux):]
		if strings.HasPrefix(best.Windows, "/") { // a table entry into a placeholder
			return m.lookupUser(best.Windows + rest)
		}
		return best.Windows + strings.ReplaceAll(rest, "/", `\`), true, ""
	}
	return "", false, placeholderOf(p)
}

func (m mapper) lookupUser(p string) (string, bool, string) {
	return mapper{user: m.user}.lookup(p)
}

func placeholderOf(p string) string {
	for _, ph := range []struct{ path, name string }{{phHome, "~"}, {phWorkspace, "$WORKSPACE"}, {phTmp, "$TMPDIR"}} {
		if within(p, ph.path) {
			return ph.name
		}
	}
	return ""
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// errUnmapped is returned by windowsPattern for a rule under a placeholder nobody mapped.
type errUnmapped struct{ placeholder string }

func (e errUnmapped) Error() string { return "no Windows path for " + e.placeholder }

// errLeftOut is returned by windowsPattern for a rule Windows path rules cannot say without
// allowing more: the policy goes without it, and the note says so.
type errLeftOut struct{ note string }

func (e errLeftOut) Error() string { return e.note }

// windowsPattern maps one exec.allow rule to an App Control / AppLocker path pattern. Both
// take one wildcard, at the end of the path (App Control: "Wildcards can be used at the
// beginning or end of a path rule; only one wildcard is allowed per path rule … Wildcards in
// the middle of a path are not supported"), so a trailing ** becomes \*, a trailing name* stays,
// and any other glob is refused, naming the rule. A path without a glob becomes path* — the
// profile allows what is within it, and Windows adds .exe or .cmd to a program's name.
//
// A whole * or ** element inside the path (~/.pyenv/plugins/*/bin/**) cannot be said, and
// the rule is left out (errLeftOut, said in a note): an allow-list is never made wider than
// the profile's rule. Any other glob is refused.
func (m mapper) windowsPattern(r profiles.PathRule) (win, note string, err error) {
	p := r.Path
	elems := strings.Split(p, "/")
	for _, el := range elems[:len(elems)-1] {
		if el == "*" || el == "**" {
			return "", "", errLeftOut{fmt.Sprintf("left out, %s (%s): Windows path rules take no wildcard inside a path, and everything under %s would allow more than the rule", r.Pattern, r.Origin, globDir(r.Pattern))}
		}
	}
	last := len(elems) - 1
	suffix := ""
	switch el := elems[last]; {
	case el == "**":
		p, suffix = strings.Join(elems[:last], "/"), `\*`
	case strings.HasSuffix(el, "*") && !strings.Contains(strings.TrimSuffix(el, "*"), "*"):
		p, suffix = strings.TrimSuffix(p, "*"), "*"
	default:
		suffix = "*"
	}
	win, ok, ph := m.lookup(strings.TrimSuffix(p, "/"))
	if !ok {
		if ph != "" {
			return "", "", errUnmapped{ph}
		}
		return "", "", fmt.Errorf("%s (%s): no Windows location is known for %s; map it with --windows-path %s=C:\\…", r.Pattern, r.Origin, p, p)
	}
	if strings.ContainsAny(win, "*?[]{}!") || strings.ContainsAny(p, "*?[]{}!") {
		return "", "", fmt.Errorf("%s (%s): Windows path rules take one wildcard, at the end of the path (App Control and AppLocker FilePath rules): write the rule as a directory (DIR/**) or a name prefix (DIR/name*)", r.Pattern, r.Origin)
	}
	win = strings.TrimSuffix(win, `\`)
	return win + suffix, note, nil
}

// mapExecutable maps one program the runs executed to an exact Windows path, or reports why
// it cannot be. A path already in Windows form is kept.
func (m mapper) mapExecutable(p string) (string, bool) {
	if windowsPathRE().MatchString(p) {
		return p, true
	}
	win, ok, _ := m.lookup(p)
	if !ok || strings.ContainsAny(win, "*?") {
		return "", false
	}
	return win + "*", true
}

// globDir is a pattern up to its first whole * or ** element, as the user wrote it.
func globDir(pattern string) string {
	for _, sep := range []string{"/*/", "/**/"} {
		if i := strings.Index(pattern, sep); i >= 0 {
			return pattern[:i]
		}
	}
	return pattern
}
