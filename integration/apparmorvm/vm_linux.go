package apparmorvm

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// VM is a throw-away virtual machine: a kernel booted by qemu straight into an initramfs that
// the VM's Run builds, holding busybox, the given files and a test script. It has no disk
// and no network.
type VM struct {
	Kernel  string            // the kernel: an uncompressed ELF vmlinux (booted through PVH, faster) or a bzImage
	Busybox string            // a static busybox: the VM's shell and tools
	Files   map[string]string // absolute path in the VM → host file or directory to copy there (not under /dev, /proc, /run, /sys or /tmp, which are mounted over)
	Append  string            // more kernel command line, after the harness's own
	Memory  int               // MiB; 512 when 0
	// Watchdog is how long into the script the VM reports every process and the kernel's
	// last messages on the console (a stuck script's diagnosis); half Run's timeout when 0.
	Watchdog time.Duration

	qemu string // the qemu-system-x86_64 binary
}

// AccelEnv names the environment variable that picks qemu's accelerator: tcg (software
// emulation, the default) or kvm.
const AccelEnv = "AGENTRUN_VM_ACCEL"

// Markers the VM's /init prints on the console around the test script's output.
const (
	markStart  = "agentrun-vm: start"
	markKernel = "agentrun-vm: kernel log"
	markExit   = "agentrun-vm: exit "
	markStuck  = "agentrun-vm: still running after"
	markReport = "agentrun-vm: end of the watchdog's report"
	// reportDone is the file the watchdog makes once its report is on the console.
	reportDone = "/run/agentrun-vm-watchdog"
)

// initScript is the VM's /init: it mounts the kernel file systems, moves / onto a mount so
// that pivot_root works in it (container runtimes need that; the initramfs itself is not a
// mount one can pivot away from), runs /test.sh, prints the kernel log, then powers off.
const initScript = `#!/bin/busybox sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
if [ "$1" != stage2 ]; then
	/bin/busybox --install -s
	mkdir -p /newroot
	mount --rbind / /newroot && cd /newroot && mount --move . / && exec chroot . /init stage2
	echo "agentrun-vm: cannot move / onto a mount" >&2
fi
m() { mount "$@" || echo "agentrun-vm: mount $* failed" >&2; }
m -t proc proc /proc
m -t sysfs sysfs /sys
m -t securityfs securityfs /sys/kernel/security
m -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
m -t devpts devpts /dev/pts
m -t tmpfs tmpfs /dev/shm
m -t tmpfs tmpfs /tmp
m -t tmpfs tmpfs /run
m -t cgroup2 cgroup2 /sys/fs/cgroup
# Keep kernel messages off the console while the script runs (the log is printed after it)
# and let every audit record through: the kernel rate-limits them to 10 per 5 s otherwise.
dmesg -n 1
echo 0 > /proc/sys/kernel/printk_ratelimit
hostname agentrun-vm
echo "` + markStart + ` $(cut -d' ' -f1 /proc/uptime)"
# The watchdog: a script still running after WATCHDOG seconds is stuck or starved. Say what
# every process waits on, in user space and in the kernel (kernel threads only when they
# cannot be interrupted), and the kernel's last words, so that a VM the host gives up on
# leaves more than a timeout.
(
	sleep "$WATCHDOG"
	echo "` + markStuck + ` $WATCHDOG s"
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' < $p/cmdline 2>/dev/null)
		[ -z "$cmd" ] && ! grep -q '^State:.D' $p/status 2>/dev/null && continue
		echo "-- ${p#/proc/} $cmd"
		grep -E '^(State|PPid)' $p/status 2>/dev/null | tr '\n' ' '
		echo "wchan=$(cat $p/wchan 2>/dev/null)"
		cat $p/stack 2>/dev/null
	done
	dmesg | tail -n 60
	echo "` + markReport + `"
	: > ` + reportDone + `
) &
watchdog=$!
cd /root
sh /test.sh < /dev/null
status=$?
kill $watchdog 2>/dev/null
cd /
printf '\n%s\n' "` + markKernel + `"
dmesg
echo "` + markExit + `$status"
poweroff -f
`

// Run boots the VM with script as /test.sh (run by busybox sh as root, in /root) and returns
// everything the VM printed on its serial console, with the script's exit status. The
// console holds the kernel's boot messages (warnings only), the script's output, and after
// it the whole kernel log (dmesg), where AppArmor's audit records appear
// (apparmor="DENIED" …). qemu is killed after timeout, and when the test ends.
//
// A VM the host starved is booted once more: one whose watchdog (half the timeout into the
// script) never spoke, or spoke of the guest kernel's soft lockups or stalls — software
// emulation on a busy shared machine, not the code under test. The test fails if the VM
// was stuck (the watchdog's report of every process is in the console), if it was starved
// twice, or if it reports no exit status.
func (v *VM) Run(t testing.TB, script string, timeout time.Duration) (console string, exitCode int) {
	t.Helper()
	console, exitCode, err := v.boot(t, script, timeout)
	if errors.Is(err, errStarved) {
		t.Logf("apparmorvm: %v; booting it once more. Its console:\n%s", err, console)
		console, exitCode, err = v.boot(t, script, timeout)
	}
	if err != nil {
		t.Fatalf("%v; the VM's console:\n%s", err, console)
	}
	return console, exitCode
}

// errStarved marks a VM that did not finish because the host did not run it.
var errStarved = errors.New("the host starved the VM")

// starvedSigns are what a guest kernel prints when its CPU was not run for seconds.
var starvedSigns = regexp.MustCompile(`soft lockup|rcu: INFO|rcu_.*stall|hung_task|blocked for more than`)

// boot runs the VM once.
func (v *VM) boot(t testing.TB, script string, timeout time.Duration) (console string, exitCode int, err error) {
	t.Helper()
	dir := t.TempDir()
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := v.writeInitramfs(initrd, script); err != nil {
		t.Fatal(err)
	}
	mem := v.Memory
	if mem == 0 {
		mem = 512
	}
	watchdog := max(int(cmp.Or(v.Watchdog, timeout/2).Seconds()), 1)
	args := []string{
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		// One CPU: under software emulation a second one only adds waits for the other
		// (IPIs, TLB shootdowns, RCU), which a busy host turns into guest soft lockups;
		// the script takes as long with one.
		"-m", strconv.Itoa(mem), "-smp", "1",
		"-serial", "stdio",
		"-kernel", v.Kernel, "-initrd", initrd,
		// WATCHDOG=N reaches /init as an environment variable.
		"-append", strings.TrimSpace(fmt.Sprintf("console=ttyS0 quiet panic=-1 apparmor=1 security=apparmor WATCHDOG=%d %s", watchdog, v.Append)),
	}
	// Software emulation unless asked otherwise: an openable /dev/kvm does not mean a
	// working one (in some nested VMs qemu hangs or aborts with it).
	accel := cmp.Or(os.Getenv(AccelEnv), "tcg")
	args = append(args, "-accel", accel)
	if accel == "kvm" {
		args = append(args, "-cpu", "host")
	}

	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.qemu, args...)
	cmd.WaitDelay = 5 * time.Second
	out := &consoleWriter{started: time.Now()}
	cmd.Stdout, cmd.Stderr = out, out
	runErr := cmd.Run()
	console = strings.ReplaceAll(out.String(), "\r\n", "\n")
	// The last one: /init prints it after everything the script printed.
	ms := regexp.MustCompile(`(?m)^`+markExit+`(\d+)$`).FindAllStringSubmatch(console, -1)
	switch {
	case ms != nil:
		// The script and the kernel log are whole; qemu's own end does not matter.
		if runErr != nil {
			t.Logf("apparmorvm: the VM reported its exit status, then qemu: %v", runErr)
		}
	case ctx.Err() != nil && t.Context().Err() == nil:
		return console, 0, timedOut(console, timeout)
	default:
		return console, 0, fmt.Errorf("the VM reported no exit status (qemu: %v)", runErr)
	}
	exitCode, _ = strconv.Atoi(ms[len(ms)-1][1])
	t.Logf("apparmorvm: %s boot to the test script in %v (kernel uptime %ss), whole run %v",
		accel, out.startAt().Round(time.Millisecond), out.uptime(), time.Since(out.started).Round(time.Millisecond))
	return console, exitCode, nil
}

// timedOut says why a VM did not finish: starved when its watchdog never spoke or spoke of
// the guest kernel's lockups or stalls, stuck otherwise.
func timedOut(console string, timeout time.Duration) error {
	_, report, spoke := strings.Cut(console, markStuck)
	if !spoke || starvedSigns.MatchString(report) {
		return fmt.Errorf("%w: it did not finish within %v", errStarved, timeout)
	}
	return fmt.Errorf("the VM's script was stuck: it did not finish within %v (its watchdog's report is in the console)", timeout)
}

// consoleWriter collects the console and notes when the script started.
type consoleWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	started time.Time
	at      time.Duration // since started, when markStart arrived
}

func (c *consoleWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if c.at == 0 {
		tail := c.buf.Bytes()[max(0, c.buf.Len()-len(p)-len(markStart)):]
		if bytes.Contains(tail, []byte(markStart)) {
			c.at = time.Since(c.started)
		}
	}
	return len(p), nil
}

func (c *consoleWriter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *consoleWriter) startAt() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// uptime is the kernel's uptime the VM printed when the script started.
func (c *consoleWriter) uptime() string {
	s := c.String()
	if i := strings.Index(s, markStart+" "); i >= 0 {
		f := strings.Fields(s[i+len(markStart):])
		if len(f) > 0 {
			return f[0]
		}
	}
	return "?"
}

// writeInitramfs writes the VM's initramfs to name: busybox, /init, the script, a root
// account and the caller's files.
func (v *VM) writeInitramfs(name, script string) (err error) {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	// Uncompressed: under TCG the kernel unpacks it faster than a gzipped one (0.2 s less
	// for 16 MB), and the file is thrown away after the boot.
	bw := bufio.NewWriterSize(f, 1<<20)
	a := &archive{c: &cpioWriter{w: bw}, dirs: map[string]bool{"": true}}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev", "tmp", "run", "newroot"} {
		a.dir(d)
	}
	a.c.CharDev("dev/console", 0o600, 5, 1)
	a.c.CharDev("dev/null", 0o666, 1, 3)
	if err := a.hostFile("bin/busybox", v.Busybox); err != nil {
		return err
	}
	a.bytes("init", 0o755, initScript)
	a.bytes("test.sh", 0o755, script)
	a.bytes("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
	a.bytes("etc/group", 0o644, "root:x:0:\nnogroup:x:65534:\n")
	a.bytes("etc/apparmor/parser.conf", 0o644, "# apparmor_parser warns when it has no configuration file\n")
	vmPaths := make([]string, 0, len(v.Files))
	for p := range v.Files {
		vmPaths = append(vmPaths, p)
	}
	slices.Sort(vmPaths)
	for _, p := range vmPaths {
		clean := path.Clean(p)
		if !path.IsAbs(clean) || clean == "/" {
			return fmt.Errorf("VM path %q is not an absolute file name", p)
		}
		for _, m := range []string{"/dev", "/proc", "/run", "/sys", "/tmp"} {
			if clean == m || strings.HasPrefix(clean, m+"/") {
				return fmt.Errorf("VM path %s would be hidden by the file system /init mounts on %s", p, m)
			}
		}
		if err := a.hostTree(clean[1:], v.Files[p]); err != nil {
			return err
		}
	}
	if err := a.c.Close(); err != nil {
		return fmt.Errorf("writing the initramfs: %w", err)
	}
	return bw.Flush()
}

// archive adds entries to the initramfs, creating parent directories once.
type archive struct {
	c    *cpioWriter
	dirs map[string]bool
}

func (a *archive) dir(name string) {
	if a.dirs[name] {
		return
	}
	a.dir(parent(name))
	a.dirs[name] = true
	a.c.Dir(name, 0o755)
}

func parent(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

func (a *archive) bytes(name string, perm uint32, content string) {
	a.dir(parent(name))
	a.c.File(name, perm, int64(len(content)), strings.NewReader(content))
}

// hostFile adds the host file (symbolic links followed) at name.
func (a *archive) hostFile(name, host string) error {
	f, err := os.Open(host)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", host)
	}
	a.dir(parent(name))
	a.c.File(name, uint32(fi.Mode().Perm()), fi.Size(), f)
	return a.c.err
}

// hostTree adds a host file, or a directory with everything in it, at name.
func (a *archive) hostTree(name, host string) error {
	fi, err := os.Stat(host)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return a.hostFile(name, host)
	}
	return filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(host, p)
		if err != nil {
			return err
		}
		dest := path.Join(name, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			a.dir(dest)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			a.dir(parent(dest))
			a.c.Symlink(dest, target)
		case d.Type().IsRegular():
			return a.hostFile(dest, p)
		default:
			return fmt.Errorf("%s: cannot put a %v in the VM", p, d.Type())
		}
		return a.c.err
	})
}
