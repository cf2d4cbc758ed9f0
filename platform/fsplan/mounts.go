package fsplan

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// Access is what a mount makes of a path.
type Access int

// The accesses, weakest first; at the same path the strongest rule wins.
const (
	Read    Access = iota + 1 // read-only bind
	Write                     // read-write bind
	Protect                   // read-only bind, even inside a write root
	Deny                      // hidden: an empty unreadable directory or file
)

func (a Access) String() string {
	return [...]string{"", "read", "write", "protect", "deny"}[a]
}

// PrivateTmp is always a fresh tmpfs in the sandbox: the host's /tmp holds other users'
// sockets and files, and X11's.
const PrivateTmp = "/tmp"

// Mount is one host path the container's view is rebuilt from.
type Mount struct {
	Path   string
	Access Access
	Dir    bool // the host path is a directory
	NoExec bool // nothing on it runs or is mapped as code (see planExec)
	// Pin marks a read-write bind of a directory onto itself inside a write root: it changes
	// no access, but a mount point cannot be renamed or removed (EBUSY), so the protect and
	// deny mounts beneath it stay where the policy put them.
	Pin bool
	For string // with Pin: the protected or denied path beneath that needs it
	// HostView marks audit mode's bind of a top-level directory of the host, submounts and
	// all, as the host has it: never idmapped (see Audit).
	HostView bool
}

// Plan is the filesystem part of a container: the mounts, in the order to make them, and the
// rules that could not be applied, with the reason.
type Plan struct {
	Mounts  []Mount
	Skipped []string
	// TmpNoExec makes the private /tmp noexec; ExecDeny are binds of the programs exec.deny
	// names over themselves, noexec, made after Mounts (see planExec).
	TmpNoExec bool
	ExecDeny  []Mount
}

// StatFunc reports whether a host path exists and is a directory.
type StatFunc func(path string) (exists, dir bool)

func HostStat(path string) (exists, dir bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, false
	}
	return true, fi.IsDir()
}

// Build turns the policy's path rules into bind mounts. Every rule is expanded to the
// existing paths it names (globs at launch time); a mount that changes nothing because an
// enclosing mount already gives the same access is left out; a rule inside a stronger one
// (a write inside a protected directory) yields to it; a protect rule outside every read and
// write root makes nothing visible unless a read or write rule names the same path. Mounts are
// ordered parents first.
func Build(pol *profiles.Policy, stat StatFunc) Plan {
	return BuildOn(pol, stat, profiles.ReadDirNames)
}

// ListFunc lists the names in a host directory.
type ListFunc func(dir string) ([]string, error)

// BuildOn is Build with the directories that negation patterns (!(a|b)) match in listed by
// list: a fixed host in tests.
func BuildOn(pol *profiles.Policy, stat StatFunc, list ListFunc) Plan {
	var plan Plan
	best := map[string]Mount{}
	named := map[string]bool{} // paths a read, socket or write rule names: visible by their own rule
	var missing []string       // protected paths that do not exist (yet)
	add := func(rules []profiles.PathRule, a Access) {
		for _, r := range rules {
			paths := profiles.GlobOn(r.Path, list)
			if len(paths) == 0 && a != Deny {
				plan.Skipped = append(plan.Skipped, a.String()+" "+r.Path+": does not exist")
			}
			for _, p := range paths {
				if p == PrivateTmp {
					continue // the sandbox's /tmp is its own tmpfs, whatever the policy says
				}
				exists, dir := stat(p)
				if !exists {
					if a != Deny {
						plan.Skipped = append(plan.Skipped, a.String()+" "+p+": does not exist")
					}
					if a == Protect {
						missing = append(missing, p)
					}
					continue
				}
				if a == Read || a == Write {
					named[p] = true
				}
				if cur, ok := best[p]; !ok || a > cur.Access {
					best[p] = Mount{Path: p, Access: a, Dir: dir}
				}
			}
		}
	}
	fs := pol.Filesystem
	add(fs.Read, Read)
	add(fs.Sockets, Read) // a named socket must be there to be connected to
	add(fs.Write, Write)
	add(fs.Protect, Protect)
	add(fs.Deny, Deny)
	all := make([]Mount, 0, len(best))
	for _, m := range best {
		all = append(all, m)
	}
	sort.Slice(all, func(i, j int) bool { return lessPath(all[i].Path, all[j].Path) })
	const notVisible = Deny + 1
	for _, m := range all {
		enclosing := notVisible
		for i := len(plan.Mounts) - 1; i >= 0; i-- {
			if profiles.Within(m.Path, plan.Mounts[i].Path) {
				enclosing = plan.Mounts[i].Access
				break
			}
		}
		switch {
		case enclosing == Deny:
			continue // hidden already
		case m.Access == Deny && enclosing == notVisible:
			continue // not visible, nothing to hide
		case m.Access == Protect && enclosing == notVisible && !named[m.Path]:
			// Protecting takes write access away; it never makes a path visible. A protect
			// rule lands outside every read and write root when its path leads through a
			// link (the rule's path is resolved), and a link in the workspace may be the
			// agent's: following it must not bind what it names. A path that a read or write
			// rule names itself (~/.gitconfig: read by base, protected by git) is visible by
			// that rule, and read-only by this one.
			continue
		case m.Access == enclosing:
			continue // same access as the mount around it
		case enclosing == Protect && m.Access != Deny:
			continue // protect wins over read and write rules inside it
		case m.Access == Read && enclosing == Write:
			continue // a read rule does not take write access away
		}
		plan.Mounts = append(plan.Mounts, m)
	}
	plan.Mounts = pinAncestors(pruneProtect(plan.Mounts), missing, stat)
	planExec(&plan, pol, stat) // after the pins: a pin inside a noexec write root is noexec too
	return plan
}

// pinAncestors makes every directory between a write mount and a protect or deny mount
// beneath it a mount point of its own (a read-write bind onto itself), so that no directory
// holding a protected path can be renamed or removed (EBUSY): without the pins, `mv .git .g`
// takes the read-only binds of .git/hooks and .git/config along, and a fresh .git takes their
// place. Directories under a read-only mount need no pin: their parent cannot be changed.
//
// For a protected path that does not exist yet, its existing ancestors are pinned the same
// way, and an ancestor that is a file where a directory should be is protected itself: a
// `.git` file (a worktree's or a submodule's) says where git finds the repository, config
// and hooks included.
func pinAncestors(mounts []Mount, missing []string, stat StatFunc) []Mount {
	at := make(map[string]bool, len(mounts))
	for _, m := range mounts {
		at[m.Path] = true
	}
	var extra []Mount
	pin := func(path string, existing bool) {
		for dir := filepath.Dir(path); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
			if at[dir] {
				continue // a mount point already; its parents may still need pins (nested write roots)
			}
			if enclosingAccess(mounts, dir) != Write {
				continue
			}
			ok, isDir := true, true
			if !existing {
				ok, isDir = stat(dir)
			}
			switch {
			case !ok:
				continue // the agent may create it; what it creates beneath is quarantined
			case isDir:
				extra = append(extra, Mount{Path: dir, Access: Write, Dir: true, Pin: true, For: path})
			default:
				extra = append(extra, Mount{Path: dir, Access: Protect})
			}
			at[dir] = true
		}
	}
	for _, m := range mounts {
		if m.Access == Protect || m.Access == Deny {
			pin(m.Path, true)
		}
	}
	for _, p := range missing {
		pin(p, false)
	}
	if len(extra) == 0 {
		return mounts
	}
	out := append(mounts, extra...)
	sort.SliceStable(out, func(i, j int) bool { return lessPath(out[i].Path, out[j].Path) })
	return out
}

// pruneProtect drops protect mounts that a read-only mount around them already covers, unless
// a write mount lies beneath them (which the protect mount must keep read-only). Every mount
// costs launch time; /etc's cron and systemd directories are the usual case.
func pruneProtect(mounts []Mount) []Mount {
	out := mounts[:0:0]
	for i, m := range mounts {
		if m.Access == Protect && enclosingAccess(mounts[:i], m.Path) == Read && !writeBeneath(mounts[i+1:], m.Path) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func enclosingAccess(before []Mount, path string) Access {
	for i := len(before) - 1; i >= 0; i-- {
		if profiles.Within(path, before[i].Path) {
			return before[i].Access
		}
	}
	return 0
}

func writeBeneath(after []Mount, path string) bool {
	for _, m := range after {
		if m.Access == Write && profiles.Within(m.Path, path) {
			return true
		}
	}
	return false
}

// lessPath orders paths so that a directory comes before everything inside it.
func lessPath(a, b string) bool {
	return strings.ReplaceAll(a, "/", "\x00") < strings.ReplaceAll(b, "/", "\x00")
}

// expandGlob returns the existing paths a pattern names (profiles.Glob). A pattern ending
// in /** names its directory; ** elsewhere matches one or more elements as * does one; a
// negation element !(a|b) every name in its directory but a and b.
func expandGlob(pattern string) []string { return profiles.Glob(pattern) }
