package stage

import (
	"fmt"
	"os"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Landlock's filesystem rights, as agentrun groups them.
const (
	llRead  = ll.AccessFSReadFile | ll.AccessFSReadDir
	llWrite = ll.AccessFSWriteFile | ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeDir |
		ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo | ll.AccessFSMakeSym |
		ll.AccessFSRefer | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	llFileRights = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	// llPerOpen are the rights that make Landlock walk an open file's path to the root on
	// every open, a read-only one too: reading, listing, and truncating (which it checks at
	// open for later ftruncate calls).
	llPerOpen = llRead | ll.AccessFSTruncate
)

// rightsOf is what a Rule's rights letters grant, on a directory.
func rightsOf(letters string) landlock.AccessFSSet {
	var a landlock.AccessFSSet
	for _, c := range letters {
		switch c {
		case 'r':
			a |= llRead
		case 'w':
			a |= llWrite
		case 'd':
			a |= ll.AccessFSReadDir
		case 'x':
			a |= ll.AccessFSExecute | ll.AccessFSReadFile
		}
	}
	return a
}

// landlockHandled is what the ruleset restricts. In the Landlock + seccomp tier, everything:
// Landlock is the only boundary there. In the namespace tier, everything but llPerOpen: the
// agent's mount view already holds only the policy's paths (denied ones hidden, protected and
// read ones read-only, where truncation fails as well), so Landlock's read rules drew the same
// line again at ≈ 0.9 µs per open at depth 7 (a walk of the path, taking a reference per
// step), a tenth of a file search; it keeps writing, creating, removing, renaming, executing
// and device ioctls, whose opens are rare.
func landlockHandled(namespaces bool) landlock.AccessFSSet {
	all := landlock.AccessFSSet(llRead | llWrite | ll.AccessFSExecute)
	if namespaces {
		return all &^ llPerOpen
	}
	return all
}

// landlockRights maps the rights letters of a Rule to Landlock access rights, within
// handled.
func landlockRights(r Rule, handled landlock.AccessFSSet) landlock.AccessFSSet {
	a := rightsOf(r.Rights) & handled
	if a&^llFileRights == 0 {
		return a // rights a file may have too: no need to look at what the path is
	}
	if fi, err := os.Stat(r.Path); err == nil && !fi.IsDir() {
		a &= llFileRights // rights on a file may only be those that apply to files
	}
	return a
}

// applyLandlock restricts the stage, and so the agent it starts, to the policy's paths (see
// landlockHandled), and scopes signals and abstract unix sockets to the sandbox.
func applyLandlock(cfg *Config) error {
	c, err := landlockConfig(cfg.RequireLandlock, 1, "filesystem rules")
	if err != nil {
		return err
	}
	c.HandledAccessFS = landlockHandled(cfg.Sandbox != nil)
	rules := make([]landlock.Rule, 0, len(cfg.Landlock))
	for _, r := range cfg.Landlock {
		if a := landlockRights(r, c.HandledAccessFS); a != 0 {
			rules = append(rules, landlock.PathAccess(a, r.Path).IgnoreIfMissing())
		}
	}
	// One ruleset for the paths and the scoping (the network is the namespace's, or the
	// direct tier's own ruleset: see applyDirect): one domain, one restriction of every
	// thread, where two took twice the work.
	c.HandledAccessNet = 0
	restrict := c.Restrict
	if cfg.Sandbox != nil {
		restrict = func(rules ...landlock.Rule) error { return restrictAllThreads(c, rules) }
	}
	if err := restrict(rules...); err != nil {
		return fmt.Errorf("applying the Landlock ruleset: %w (agentrun doctor explains; --allow-degraded runs without it)", err)
	}
	return nil
}

// restrictAllThreads is landlock.Config.Restrict for the stage in its namespaces, which has
// set no_new_privs on every thread when it dropped its privileges (dropPrivileges): without
// the library's second all-thread no_new_privs, for each all-thread call stops and signals
// every thread of the stage. Where this thread has no no_new_privs after all, it is set on
// every thread first (a thread without it would fail the restriction, never run
// unrestricted). Only there: the library's cgo thread walk reads /proc/PID/task, which a
// ruleset handling directory reads (the direct tier's) needs a rule for, and Restrict adds
// one (go-landlock issue 39).
func restrictAllThreads(c landlock.Config, rules []landlock.Rule) error {
	fd, flags, err := c.NewRulesetFD(rules...)
	if err != nil || fd < 0 {
		return err // fd < 0: nothing to restrict (best effort, on a kernel without Landlock)
	}
	defer unix.Close(fd)
	if nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err != nil || nnp != 1 {
		if err := ll.AllThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("setting no_new_privs: %w", err)
		}
	}
	if err := ll.AllThreadsLandlockRestrictSelf(fd, flags); err != nil {
		return fmt.Errorf("landlock_restrict_self: %w", err)
	}
	return nil
}

// landlockConfig is Landlock up to ABI 7, as much of it as the kernel has: filesystem rules
// from ABI 1 (Linux 5.13), refer 2, truncate 3, TCP 4, ioctl 5, signal and abstract socket
// scoping 6. What a required layer cannot do without, minABI, is an error naming the fix.
func landlockConfig(require bool, minABI int, what string) (landlock.Config, error) {
	if abi, err := ll.LandlockGetABIVersion(); require && (err != nil || abi < minABI) {
		return landlock.Config{}, fmt.Errorf("the Landlock %s need ABI %d; this kernel has %d (agentrun doctor explains; --allow-degraded runs without it)", what, minABI, max(abi, 0))
	}
	return landlock.V7.BestEffort(), nil
}
