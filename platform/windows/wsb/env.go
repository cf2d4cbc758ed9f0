package wsb

import (
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// The stand-in directories a policy is resolved for: Unix paths that no rule names by
// itself, mapped to Windows paths afterwards.
const (
	standInHome      = "/agentrun-wsb/home"
	standInWorkspace = "/agentrun-wsb/workspace"
	standInTmp       = "/agentrun-wsb/tmp"
)

// SandboxHome is the home of the account the sandbox logs on as.
const SandboxHome = `C:\Users\WDAGUtilityAccount`

// SandboxWorkspace is where the workspace is mapped inside the sandbox, and where the logon
// command runs.
const SandboxWorkspace = SandboxHome + `\workspace`

// Env is the expansion environment a policy is resolved for before Compile: stand-ins for
// the home, the workspace and $TMPDIR, the XDG directories under the home as the tools
// profiles name use them (on Windows too, git and many CLIs read ~/.config), no runtime
// directory. It reads no file system: the Windows host's is not this one.
func Env() profiles.Env {
	return profiles.Env{
		Home:       standInHome,
		Workspace:  standInWorkspace,
		TmpDir:     standInTmp,
		ConfigHome: standInHome + "/.config",
		DataHome:   standInHome + "/.local/share",
		StateHome:  standInHome + "/.local/state",
		CacheHome:  standInHome + "/.cache",
	}
}

// under reports whether p is dir or below it, and the rest of p after dir ("" or "/...").
func under(p, dir string) (string, bool) {
	if p == dir {
		return "", true
	}
	if strings.HasPrefix(p, dir+"/") {
		return p[len(dir):], true
	}
	return "", false
}

// place is where a stand-in path is on the Windows host and inside the sandbox.
type place struct {
	host, sandbox string
}

// windowsBad are the characters a Windows file name cannot hold (besides control bytes).
const windowsBad = `<>:"|?*\`

// locate maps a stand-in path to the host and the sandbox; ok is false for a path that has no
// Windows meaning (outside the home and the workspace, under $TMPDIR, or with a name Windows
// cannot spell).
func (c *compiler) locate(p string) (place, bool) {
	var hostBase, sandboxBase, rest string
	if r, ok := under(p, standInWorkspace); ok {
		hostBase, sandboxBase, rest = c.o.Workspace, SandboxWorkspace, r
	} else if r, ok := under(p, standInHome); ok {
		hostBase, sandboxBase, rest = c.o.Home, SandboxHome, r
	} else {
		return place{}, false
	}
	if strings.ContainsAny(rest, windowsBad) || strings.ContainsFunc(rest, func(r rune) bool { return r < 0x20 }) {
		return place{}, false
	}
	win := strings.ReplaceAll(rest, "/", `\`)
	return place{host: strings.TrimSuffix(hostBase, `\`) + win, sandbox: sandboxBase + win}, true
}

// globIndex is the index of the first glob character of p, or -1.
func globIndex(p string) int { return strings.IndexAny(p, "*?[!(") }

// fixedDir is the part of a rule's path before its first glob, up to the last whole name.
func fixedDir(p string) string {
	i := globIndex(p)
	if i < 0 {
		return p
	}
	j := strings.LastIndexByte(p[:i], '/')
	if j <= 0 {
		return "/"
	}
	return p[:j]
}
