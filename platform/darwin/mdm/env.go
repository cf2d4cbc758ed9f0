package mdm

import (
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// AnyHome is the home directory a configuration is compiled for when no --home is given:
// Santa expands the glob on the Mac (glob(3), re-evaluated as the configuration is reapplied),
// so one file deployed by MDM protects every user's secrets.
const AnyHome = "/Users/*"

// noWorkspace stands for $WORKSPACE when none is given: a fleet configuration has no one
// workspace, and rules under it are left out with a note.
const noWorkspace = "/agentrun-no-workspace"

// Env is the expansion environment of a policy compiled for a Mac: home (AnyHome when empty),
// the XDG directories under it as the command-line tools agentrun profiles name use them on
// macOS, and workspace (none when empty). Paths are canonical as Santa needs them: /tmp, /var
// and /etc are symbolic links into /private on macOS, and Santa watches resolved paths only.
func Env(home, workspace string) profiles.Env {
	if home == "" {
		home = AnyHome
	}
	if workspace == "" {
		workspace = noWorkspace
	}
	return profiles.Env{
		Home:       home,
		Workspace:  workspace,
		TmpDir:     "/private/tmp",
		ConfigHome: home + "/.config",
		DataHome:   home + "/.local/share",
		StateHome:  home + "/.local/state",
		CacheHome:  home + "/.cache",
		Canonical:  Canonical,
	}
}

// privateLinks are macOS's top-level symbolic links into /private.
var privateLinks = []string{"/tmp", "/var", "/etc"}

// Canonical maps a path to its macOS canonical form: /tmp, /var and /etc (and what is under
// them) move to /private. It reads no file system: the Mac's is not this host's.
func Canonical(p string) string {
	for _, l := range privateLinks {
		if p == l || strings.HasPrefix(p, l+"/") {
			return "/private" + p
		}
	}
	return p
}

// underWorkspace reports whether p is the placeholder workspace or under it.
func underWorkspace(p string) bool {
	return p == noWorkspace || strings.HasPrefix(p, noWorkspace+"/")
}
