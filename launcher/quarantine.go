package launcher

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// quarantineSuffix marks a protected path the agent created, moved aside after the run.
const quarantineSuffix = ".agentrun-quarantined"

// missingProtected lists the protected paths that do not exist when the agent starts. The
// sandbox cannot make a path read-only before it exists, so a path the agent creates there
// (git hooks after `git init`, .claude/settings.json with hooks) could run outside the
// sandbox later; quarantine moves such paths aside once the agent is done.
func missingProtected(pol *profiles.Policy) []string {
	var out []string
	for _, r := range pol.Filesystem.Protect {
		if strings.Contains(r.Path, "*") {
			continue
		}
		if _, err := os.Lstat(r.Path); os.IsNotExist(err) {
			out = append(out, r.Path)
		}
	}
	return out
}

// quarantine moves each of paths that now exists to PATH.agentrun-quarantined (or
// PATH.agentrun-quarantined.N), nothing deleted, and tells the user.
func quarantine(paths []string, stderr io.Writer) {
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		dst := p + quarantineSuffix
		for n := 2; ; n++ {
			if _, err := os.Lstat(dst); os.IsNotExist(err) {
				break
			}
			dst = fmt.Sprintf("%s%s.%d", p, quarantineSuffix, n)
		}
		if err := os.Rename(p, dst); err != nil {
			fmt.Fprintf(stderr, "agentrun: WARNING: the agent created protected path %s, and moving it aside failed: %v; review it before running anything that reads it\n", p, err)
			continue
		}
		fmt.Fprintf(stderr, "agentrun: the agent created protected path %s; moved it to %s (review it, then rename it back if you want it)\n", p, dst)
	}
}
