package linux

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/apparmor"
	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
)

// seccompNeeds is what the seccomp layer needs of the host and of agentrun's build, for the
// messages that say why it is missing.
const seccompNeeds = "a kernel with seccomp filters (CONFIG_SECCOMP_FILTER) and, on an architecture other than amd64, agentrun built with libseccomp (-tags seccomp, cgo: scripts/install.sh builds it so)"

// Host is what this machine offers the sandbox, as agentrun doctor reports it.
type Host struct {
	Kernel          string
	Root            bool
	LandlockABI     int    // 0: none
	AppArmor        bool   // the AppArmor LSM is enabled
	AppArmorParser  bool   // apparmor_parser is installed
	UserNS          bool   // this user can create user namespaces
	UserNSWhy       string // why not, when UserNS is false
	CgroupVersion   int    // 1 (or hybrid) or 2
	CgroupDelegated bool   // this process's cgroup v2 is writable: delegated to this user
	CgroupLimits    bool   // agentrun can apply cgroup limits here: as root, or through the delegated cgroup
	TUN             bool   // /dev/net/tun exists and this user may open it
	Seccomp         bool   // the kernel has seccomp filters and this binary has their programs (seccompfilter.Built)
	BPF             bool   // agentrun may load the BPF program that records enforce mode's denials
	BPFWhy          string // why not, when BPF is false
}

// ProbeHost looks at the kernel and this process's privileges.
func ProbeHost() Host { return probeHost(true) }

// probeHost is ProbeHost; without tryUserNS a user namespace counts as available when the
// kernel's settings allow it, without starting a process in one to be sure (a launch finds out
// by starting the stage in one: see Sandbox.Run).
func probeHost(tryUserNS bool) Host {
	h := Host{Root: os.Geteuid() == 0}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = string(bytes.TrimRight(u.Release[:], "\x00"))
	}
	if abi, err := ll.LandlockGetABIVersion(); err == nil {
		h.LandlockABI = abi
	}
	if lsm, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		h.AppArmor = strings.Contains(string(lsm), "apparmor")
	} else if enabled, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil {
		h.AppArmor = strings.TrimSpace(string(enabled)) == "Y"
	}
	if h.AppArmor { // a look along PATH on every launch otherwise
		_, err := exec.LookPath("apparmor_parser")
		h.AppArmorParser = err == nil
	}
	h.UserNS, h.UserNSWhy = userNamespaces(h.Root, tryUserNS)
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		h.CgroupVersion = 2
	} else {
		h.CgroupVersion = 1
	}
	h.CgroupDelegated = h.CgroupVersion == 2 && ownCgroupWritable()
	// Rootless, a container (so a user namespace) goes in the delegated cgroup; the
	// Landlock + seccomp tier makes no cgroup.
	h.CgroupLimits = h.Root || h.UserNS && h.CgroupDelegated && delegatedLimits()
	// Rootless, the sandbox opens the host's device node: it must be usable by this user
	// (most distributions ship it mode 0666).
	h.TUN = unix.Access("/dev/net/tun", unix.R_OK|unix.W_OK) == nil
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		// Built: always on amd64, whose filters are compiled when agentrun is built.
		h.Seccomp = seccompfilter.Built && strings.Contains(string(status), "Seccomp:")
	}
	// Only what loads nothing: a kernel too old is found out by the run's load, and said;
	// doctor loads the kernel's feature probes too (checkBPFLoads).
	if err := kdenials.Permitted(); err != nil {
		h.BPFWhy = err.Error()
	} else {
		h.BPF = true
	}
	return h
}

// checkBPFLoads refines BPF with what loading the kernel's feature probes says (doctor: a
// launch, --dry-run and a failed run's summary load nothing for it).
func (h *Host) checkBPFLoads() {
	if !h.BPF {
		return
	}
	if err := kdenials.Available(); err != nil {
		h.BPF, h.BPFWhy = false, err.Error()
	}
}

func readInt(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return n, err == nil
}

// userNamespaces says whether this user can create a user namespace, and if not, why.
func userNamespaces(root, try bool) (bool, string) {
	if root {
		return true, ""
	}
	if n, ok := readInt("/proc/sys/user/max_user_namespaces"); ok && n == 0 {
		return false, "user.max_user_namespaces is 0; set it with: sysctl -w user.max_user_namespaces=15000"
	}
	if n, ok := readInt("/proc/sys/kernel/unprivileged_userns_clone"); ok && n == 0 {
		return false, "kernel.unprivileged_userns_clone is 0; enable it with: sysctl -w kernel.unprivileged_userns_clone=1"
	}
	if n, ok := readInt("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); ok && n == 1 {
		return false, "AppArmor restricts unprivileged user namespaces (Ubuntu 24.04+); allow agentrun with an AppArmor profile granting userns, or: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
	}
	// The settings allow it; a seccomp filter (a container runtime's default profile) or
	// an LSM may still refuse. Asking the kernel is the only sure test.
	if try {
		if err := tryUserNamespace(); err != nil {
			return false, userNSRefused(err)
		}
	}
	return true, ""
}

// userNSRefused says why a user namespace could not be created.
func userNSRefused(err error) string {
	return fmt.Sprintf("creating one fails (%v): a seccomp filter or security module forbids it, as in most containers", err)
}

// tryUserNamespace starts /bin/true in a new user namespace.
func tryUserNamespace() error {
	for _, bin := range []string{"/usr/bin/true", "/bin/true"} {
		if _, err := os.Stat(bin); err != nil {
			continue
		}
		pid, err := syscall.ForkExec(bin, []string{"true"}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}})
		if err != nil {
			return err
		}
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
		return nil
	}
	return nil // nothing to try with; the settings said yes
}

func (h Host) String() string {
	return fmt.Sprintf("kernel %s, landlock ABI %d, cgroup v%d", h.Kernel, h.LandlockABI, h.CgroupVersion)
}

// AppArmorState describes AppArmor on this host for agentrun doctor: the module, the
// parser, the agentrun profiles loaded, and Ubuntu's user-namespace restriction.
func AppArmorState(h Host) string {
	if !h.AppArmor {
		return "no: not enabled in this kernel (agentrun still compiles profiles: agentrun compile --target apparmor)"
	}
	parts := []string{"module loaded"}
	if p, err := exec.LookPath("apparmor_parser"); err == nil {
		parts = append(parts, p+" found")
	} else {
		parts = append(parts, "apparmor_parser missing (apt-get install apparmor): profiles cannot be loaded")
	}
	if data, err := os.ReadFile(apparmor.FS + "/profiles"); err == nil {
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "agentrun") {
				n++
			}
		}
		parts = append(parts, fmt.Sprintf("%d agentrun profiles loaded", n))
	} else if !h.Root {
		parts = append(parts, "loading profiles needs root (sudo agentrun …)")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); err == nil && strings.TrimSpace(string(b)) == "1" {
		parts = append(parts, "unprivileged user namespaces restricted (sudo agentrun setup installs the profile that lets agentrun create them)")
	}
	return "yes: " + strings.Join(parts, "; ")
}
