package appcontrol

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// Options are what the policies need beyond the profile.
type Options struct {
	// Paths place Linux locations on Windows (--windows-path), before Toolchain; "~",
	// "$WORKSPACE" and "$TMPDIR" name the Windows home, workspace and temporary directory.
	Paths []Mapping
	// Executables are the programs the profile's runs executed (--from-events); each not
	// already allowed gets a rule of its own.
	Executables []Executable
	// LinuxHome is the home of the host whose events Executables come from: its programs map
	// as ~ does.
	LinuxHome string
	// SID is the user or group AppLocker's rules apply to; empty means Everyone (S-1-1-0).
	SID string
}

// Executable is a program the profile's runs executed, from the event store.
type Executable struct {
	Path  string
	Count int64
}

// Result is one compiled policy and what it leaves out, for the user.
type Result struct {
	XML   []byte
	Notes []string
}

// allow is one Windows path the policy allows, and the rules it comes from.
type allow struct {
	path string
	from []string // "exec.allow ~/.local/bin/claude (claude.yaml:82:7)" or "executed 12 times"
}

// everyone is the well-known SID of the Everyone group.
const everyone = "S-1-1-0"

// allows maps pol's exec.allow rules and o.Executables to Windows paths, in the profile's
// order then the programs' (by path), one entry per distinct path. A rule under an unmapped
// home, workspace or temporary directory is left out with a note; a rule Windows cannot say
// is an error naming it.
func allows(pol *profiles.Policy, o Options) ([]allow, []string, error) {
	m := mapper{user: o.Paths, table: Toolchain, linuxHome: o.LinuxHome}
	var out []allow
	var notes []string
	index := map[string]int{}
	add := func(path, from string) {
		key := strings.ToLower(path) // Windows paths are case-insensitive
		if i, ok := index[key]; ok {
			out[i].from = append(out[i].from, from)
			return
		}
		index[key] = len(out)
		out = append(out, allow{path: path, from: []string{from}})
	}
	unmapped := map[string][]string{}
	for _, r := range pol.Exec.Allow {
		win, note, err := m.windowsPattern(r)
		var um errUnmapped
		if errors.As(err, &um) {
			unmapped[um.placeholder] = append(unmapped[um.placeholder], fmt.Sprintf("%s (%s)", r.Pattern, r.Origin))
			continue
		}
		var lo errLeftOut
		if errors.As(err, &lo) {
			notes = append(notes, lo.note)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		add(win, fmt.Sprintf("exec.allow %s (%s)", r.Pattern, r.Origin))
	}
	for _, ph := range []string{"~", "$WORKSPACE", "$TMPDIR"} {
		if rules := unmapped[ph]; len(rules) > 0 {
			notes = append(notes, fmt.Sprintf("left out, no Windows path for %s (--windows-path '%s=C:\\…'): %s", ph, ph, strings.Join(rules, ", ")))
		}
	}
	exes := append([]Executable(nil), o.Executables...)
	sort.Slice(exes, func(i, j int) bool { return exes[i].Path < exes[j].Path })
	var unplaced []string
	for _, e := range exes {
		win, ok := m.mapExecutable(e.Path)
		if !ok {
			unplaced = append(unplaced, e.Path)
			continue
		}
		if covered(out, win) {
			continue
		}
		add(win, fmt.Sprintf("executed %d times in the profile's runs, as %s", e.Count, e.Path))
	}
	if len(unplaced) > 0 {
		notes = append(notes, fmt.Sprintf("%d executed programs have no Windows location (map them with --windows-path): %s", len(unplaced), strings.Join(unplaced, ", ")))
	}
	if len(out) == 0 {
		return nil, notes, fmt.Errorf("profile %s allows no program Windows can place: map its exec.allow rules with --windows-path LINUX=WINDOWS", pol.Name)
	}
	return out, notes, nil
}

// covered reports whether win is within one of the allowed patterns.
func covered(as []allow, win string) bool {
	for _, a := range as {
		if prefix, ok := strings.CutSuffix(a.path, "*"); ok && strings.HasPrefix(strings.ToLower(strings.TrimSuffix(win, "*")), strings.ToLower(prefix)) {
			return true
		}
	}
	return false
}

// guid is a name-based GUID (RFC 4122 version 5, SHA-1) of the parts: the same profile
// compiles to the same identifiers, so deployed policies and goldens stay stable.
func guid(parts ...string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(strings.Join(parts, "\x00")))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// namespace is agentrun's GUID namespace for application-control policies (a random v4).
var namespace = [16]byte{0x6b, 0x1e, 0x2f, 0x4a, 0x93, 0x0c, 0x4d, 0x57, 0x8a, 0x61, 0x3e, 0x92, 0xc4, 0x05, 0xd8, 0x7f}

// description joins where an allowed path comes from.
func description(a allow) string {
	return "agentrun: " + strings.Join(a.from, "; ")
}
