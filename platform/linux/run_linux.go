package linux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/apparmor"
	"github.com/agentrun/agentrun/profiles"
)

// Sandbox runs agents in libcontainer containers.
type Sandbox struct {
	// StateRoot holds the containers' state; empty means DefaultStateRoot().
	StateRoot string
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "agentrun-" + hex.EncodeToString(b)
}

// Run starts the agent of spec in a new container and waits for it. The container, its
// cgroup and its files are removed before Run returns, whatever happens.
func (s *Sandbox) Run(ctx context.Context, spec *platform.Spec) (int, error) {
	pol := spec.Policy
	audit := pol.Mode == profiles.ModeAudit
	root := s.StateRoot
	if root == "" {
		root = DefaultStateRoot()
	}
	// Before the plan: the state root is one of agentrun's own directories, which the plan
	// hides from the agent, and a path is hidden only if it exists.
	rootErr := prepareStateRoot(root)
	fs := fsplan.Build(pol, fsplan.HostStat)
	if audit {
		fs = fsplan.Audit(fs, pol, fsplan.HostStat, stageDir)
	}
	h := ProbeHost()
	var delegated string // rootless: the delegated cgroup the container's goes beneath
	if !h.Root && h.CgroupLimits {
		var err error
		if delegated, err = prepareDelegated(); err != nil {
			h.CgroupLimits = false
			fmt.Fprintf(spec.Stderr, "agentrun: the delegated cgroup cannot be used: %v\n", err)
		}
	}
	tmp := tmpSize(pol) // before --allow-degraded may give up the limits: the bound holds anyway
	pol = withDefaultLimits(pol, h, spec.Stderr)
	layers := layersFor(pol, h, fs)
	d, err := decideDegrade(layers, pol, fs.ProtectedInWrite(), spec.AllowDegraded, spec.AllowUnprotected)
	for _, l := range d.GivenUp {
		fmt.Fprintf(spec.Stderr, "agentrun: --allow-degraded: giving up %s (%s)\n", l.ID, l.Enforces)
	}
	if err != nil {
		return 0, err
	}
	pol, given := d.Policy, d.Given
	if d.Direct {
		return runDirect(ctx, spec, pol, fs, given)
	}
	if rootErr != nil {
		return 0, rootErr
	}
	defer os.Remove(root) // last, and only once no run uses it (it is not empty then)
	CleanStale(root)
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding the agentrun binary: %w", err)
	}
	l := layoutOf(root, newID())
	l.self, l.tmpSize, l.cgroupParent = self, tmp, delegated
	// Audit mode lets the agent out, recording where, unless --allow-degraded gave that up.
	withNet := !pol.Network.None() || (audit && !given[LayerNetFilter])
	if !withNet {
		l.resolv = ""
	}
	lock, err := lockLayout(l, true)
	if err != nil {
		return 0, fmt.Errorf("creating the container's lock file: %w", err)
	}
	defer lock.Close() // after removeLayout: deferred calls run last first
	defer removeLayout(l)
	if err := os.MkdirAll(l.rootfs, 0o755); err != nil { // MkdirAll: another run may have just removed root
		return 0, fmt.Errorf("creating the container root: %w", err)
	}
	if err := rootSymlinks(l.rootfs); err != nil {
		return 0, fmt.Errorf("creating the container root: %w", err)
	}
	if err := os.WriteFile(l.denyFile, nil, 0); err != nil {
		return 0, fmt.Errorf("creating the container root: %w", err)
	}
	if withNet {
		if err := resolvConf(l.resolv); err != nil {
			return 0, fmt.Errorf("writing the sandbox's resolv.conf: %w", err)
		}
	}
	rootless := os.Geteuid() != 0
	cfg := containerConfig(pol, fs, l, rootless, withNet)
	var obs *observer
	if given[LayerSeccomp] {
		cfg.Seccomp = nil
	} else {
		// Always: the unix socket gate decides connects in every run, with or without events.
		if obs, err = observe(cfg.Seccomp, l.notify, pol, spec, self); err != nil {
			return 0, err
		}
		obs.SetPinned(fs.PinnedRules(pol))
		defer obs.Close()
	}
	if needed(layers, LayerAppArmor) && !given[LayerAppArmor] {
		name, text, err := apparmor.RuntimeProfile(pol)
		if err != nil {
			return 0, fmt.Errorf("compiling the AppArmor profile: %w", err)
		}
		prof, err := apparmor.Load(root, name, text)
		if err != nil {
			return 0, &platform.LayerError{Layer: "apparmor", Enforces: "the policy as an AppArmor profile", Fix: err.Error()}
		}
		defer prof.Release()
		cfg.AppArmorProfile = name
		if spec.Events != nil {
			defer apparmor.Follow(name, spec.Events).Close()
		}
	}
	c, err := libcontainer.Create(root, l.id, cfg)
	if err != nil {
		return 0, fmt.Errorf("creating the container: %w", err)
	}
	defer destroy(c, root)

	link, err := newStageLink()
	if err != nil {
		return 0, err
	}
	defer link.Close() // the lifeline stays open until the agent has exited
	tty := isTerminal(spec.Stdin)
	proc := &libcontainer.Process{
		Args:       []string{stageDir + "/agentrun", stageArg},
		Env:        []string{"PATH=/usr/bin:/bin"},
		UID:        spec.UID,
		GID:        spec.GID,
		Cwd:        "/",
		ExtraFiles: link.childFiles(),
		Init:       true,
	}
	if len(spec.Groups) > 0 && !rootless {
		proc.AdditionalGroups = spec.Groups
	}
	var egress *egressLink
	if withNet {
		if egress, err = newEgressLink(); err != nil {
			return 0, err
		}
		defer egress.Close()
		proc.ExtraFiles = append(proc.ExtraFiles, egress.child)
	}
	var term *terminal
	if tty {
		if term, err = newTerminal(spec.Stdin.(*os.File), spec.Stdout); err != nil {
			return 0, err
		}
		defer term.restore()
		proc.ConsoleSocket = term.socket
		proc.ConsoleWidth, proc.ConsoleHeight = term.size()
	} else {
		proc.Stdin, proc.Stdout, proc.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	}

	stopSignals := relaySignals(ctx, tty, func(sig os.Signal) { _ = proc.Signal(sig) })
	defer stopSignals()

	if err := c.Run(proc); err != nil {
		return 0, fmt.Errorf("starting the container: %w", err)
	}
	if obs != nil {
		pid, _ := proc.Pid()
		if err := obs.started(pid); err != nil {
			_ = proc.Signal(unix.SIGKILL)
			_, _ = proc.Wait()
			return 0, err
		}
	}
	var oom <-chan struct{}
	if !rootless && pol.Resources.MemoryBytes > 0 {
		oom, _ = c.NotifyOOM() // the cgroup exists once the container runs
	}
	sc := newStageConfig(spec, tty, landlockRules(pol, fs), given)
	sc.Audit = audit
	if withNet {
		sc.Net = newNetConfig()
	}
	link.send(sc)
	if egress != nil {
		if err := egress.serve(pol, spec); err != nil {
			_ = proc.Signal(unix.SIGKILL)
			_, _ = proc.Wait()
			return 0, err
		}
	}
	if term != nil {
		if err := term.attach(); err != nil {
			_ = proc.Signal(unix.SIGKILL)
			return 0, err
		}
	}
	state, werr := proc.Wait()
	if term != nil {
		term.drain()
	}
	code := exitCode(state, werr)
	if oomKilled(oom, code) {
		return code, &platform.OOMError{Limit: pol.Resources.MemoryBytes, Code: code}
	}
	if code < 0 {
		return 0, fmt.Errorf("waiting for the agent: %w", werr)
	}
	return code, nil
}

// oomKilled reports whether the agent died of the memory limit. The kernel's notification
// can trail the exit a little, so a SIGKILL death waits for it briefly.
func oomKilled(oom <-chan struct{}, code int) bool {
	if oom == nil {
		return false
	}
	wait := time.Duration(0)
	if code == 128+int(unix.SIGKILL) {
		wait = 250 * time.Millisecond
	}
	select {
	case <-oom:
		return true
	case <-time.After(wait):
		return false
	}
}

// exitCode is the agent's status as a shell reports it: its exit code, or 128+N when
// killed by signal N; -1 when there is none.
func exitCode(state *os.ProcessState, err error) int {
	var exitErr *exec.ExitError
	if state == nil && errors.As(err, &exitErr) {
		state = exitErr.ProcessState
	}
	if state == nil {
		return -1
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}

// layoutOf is where container id's files are in root.
func layoutOf(root, id string) layout {
	base := filepath.Join(root, id)
	return layout{stateRoot: root, id: id, rootfs: base + ".rootfs", denyFile: base + ".deny", resolv: base + ".resolv", notify: base + ".notify", lock: base + ".lock"}
}

func removeLayout(l layout) {
	_ = removeSkeleton(l.rootfs)
	_ = os.Remove(l.denyFile)
	for _, f := range []string{l.resolv, l.notify, l.lock} {
		if f != "" {
			_ = os.Remove(f)
		}
	}
}

// removeSkeleton removes a container's root directory, which holds only the empty directories
// and files libcontainer made as mount points. It never crosses into another file system and
// removes nothing that is not empty: should a mount of the user's files ever be left on it,
// they stay untouched.
func removeSkeleton(dir string) error {
	var root unix.Stat_t
	if err := unix.Lstat(dir, &root); err != nil {
		return err
	}
	var walk func(string) error
	walk = func(p string) error {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if st.Dev != root.Dev {
			return fmt.Errorf("%s is on another file system; left in place", p)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			entries, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if err := walk(filepath.Join(p, e.Name())); err != nil {
					return err
				}
			}
			return unix.Rmdir(p)
		case unix.S_IFREG:
			if st.Size != 0 {
				return fmt.Errorf("%s is not empty; left in place", p)
			}
		}
		return unix.Unlink(p)
	}
	return walk(dir)
}

// destroy removes a container and its cgroups. Processes the agent left behind die with the
// container's PID 1, but not at once: until they are gone the cgroups cannot be removed, so
// it tries again for a while.
func destroy(c *libcontainer.Container, stateRoot string) {
	for i := 0; i < 100; i++ {
		if c.Destroy() == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	removeCgroupParent(stateRoot)
}

// removeCgroupParent removes agentrun's parent cgroup in every hierarchy once no container
// uses it; a busy one (another run) stays.
func removeCgroupParent(stateRoot string) {
	if containers, _ := filepath.Glob(filepath.Join(stateRoot, "agentrun-*[0-9a-f]")); len(containers) > 0 {
		return // another run is starting or running
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/agentrun")
	dirs = append(dirs, "/sys/fs/cgroup/agentrun")
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}

// CleanStale removes what an agentrun killed without warning left in root: containers
// whose processes are gone, with their cgroups, their root directories and files. A run
// holds its container's lock file for as long as it lives (the kernel lets go of it when the
// process dies, however it dies), so a container whose lock can be taken is abandoned, and
// one being set up or run by another agentrun is never touched.
func CleanStale(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, e := range entries {
		id := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if seen[id] || !strings.HasPrefix(id, "agentrun-") {
			continue
		}
		seen[id] = true
		l := layoutOf(root, id)
		lock, err := lockLayout(l, false)
		if err != nil {
			continue // a live run's
		}
		if c, err := libcontainer.Load(root, id); err != nil {
			_ = os.RemoveAll(filepath.Join(root, id))
		} else {
			destroy(c, root)
		}
		removeLayout(l)
		lock.Close()
	}
	removeCgroupParent(root)
}

// lockLayout creates and locks container l's lock file; with wait false it fails at once
// when another process holds it.
func lockLayout(l layout, wait bool) (*os.File, error) {
	f, err := os.OpenFile(l.lock, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	for try := 0; wait && errors.Is(err, os.ErrNotExist) && try < 10; try++ {
		// Another run that just ended removed the (then empty) state root.
		if err = prepareStateRoot(l.stateRoot); err == nil {
			f, err = os.OpenFile(l.lock, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		}
	}
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
