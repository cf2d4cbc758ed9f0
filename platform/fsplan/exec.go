package fsplan

import "github.com/agentrun/agentrun/profiles"

// The exec side of the mount plan. Landlock's EXECUTE right is checked by execve only: the
// dynamic loader (ld.so FILE) maps a file as code with mmap, which Landlock does not govern,
// and a noexec mount is what makes that mmap fail. So what the agent can write is mounted
// noexec unless the policy lets it run programs there, and each program exec.deny names is
// bound over itself noexec (it stays readable).

// execCovered reports whether the policy lets programs run at path or somewhere beneath it:
// a mount there must keep exec for Landlock's rules to decide.
func execCovered(path string, allow []profiles.PathRule) bool {
	for _, r := range allow {
		base := profiles.GlobBase(r.Path)
		if profiles.Within(path, base) || profiles.Within(base, path) {
			return true
		}
	}
	return false
}

// planExec marks the plan's writable mounts noexec where exec.allow does not reach them,
// decides the same for the private /tmp, and lists the existing paths exec.deny names, each
// with the access of the mount it sits in (a denied program inside a hidden path needs
// nothing; one nowhere in the sandbox's view neither).
func planExec(plan *Plan, pol *profiles.Policy, stat StatFunc) {
	for i, m := range plan.Mounts {
		if m.Access == Write && !execCovered(m.Path, pol.Exec.Allow) {
			plan.Mounts[i].NoExec = true
		}
	}
	plan.TmpNoExec = !execCovered(PrivateTmp, pol.Exec.Allow)
	seen := map[string]bool{}
	for _, r := range pol.Exec.Deny {
		for _, p := range expandGlob(r.Path) {
			if seen[p] {
				continue
			}
			seen[p] = true
			exists, dir := stat(p)
			if !exists {
				continue
			}
			enclosing := enclosingAccess(plan.Mounts, p)
			if profiles.Within(p, PrivateTmp) {
				enclosing = Write
			}
			if enclosing == 0 || enclosing == Deny {
				continue
			}
			a := Read
			if enclosing == Write {
				a = Write
			}
			plan.ExecDeny = append(plan.ExecDeny, Mount{Path: p, Access: a, Dir: dir, NoExec: true})
		}
	}
}
