package integration

import (
	"fmt"
	"regexp"
)

// Kernel attack surface, privileges, /proc and /sys, devices: the classic ways out of a
// container, each of which the sandbox must refuse while the harmless neighbour works.

// perlSyscall is a script that makes raw system call nr with args and exits 0 only if it
// succeeded, printing the error otherwise.
func perlSyscall(nr int, args string) string {
	if args != "" {
		args = ", " + args
	}
	// Perl passes only variables as pointers: $buf (256 zero bytes), $path, $fs and $root.
	return fmt.Sprintf(`perl -e 'my ($buf, $path, $fs, $root) = ("\0" x 256, "/tmp/x", "tmpfs", "/"); $r = syscall(%d%s); print "r=$r $!\n"; exit($r == -1 ? 1 : 0)'`, nr, args)
}

// syscallTwin is a raw system call every process may make (getpid).
var syscallTwin = perlSyscall(39, "")

func init() {
	denied := func(name string, nr int, args string) escapeAttempt {
		return escapeAttempt{
			class: "kernel", name: name,
			attack: perlSyscall(nr, args), want: "Operation not permitted",
			control: syscallTwin, controlWant: "r=",
		}
	}
	escapeAttempts = append(escapeAttempts,
		denied("bpf", 321, "0, 0, 0"),
		denied("perf_event_open", 298, "0, 0, -1, -1, 0"),
		denied("userfaultfd", 323, "0"),
		denied("keyctl", 250, "0, 0, 0, 0, 0"),
		denied("add_key", 248, "0, 0, 0, 0, 0"),
		denied("io_uring_setup", 425, "8, $buf"),
		denied("open_by_handle_at (shocker)", 304, "0, 0, 0"),
		denied("init_module", 175, "0, 0, 0"),
		denied("kexec_load", 246, "0, 0, 0, 0"),
		denied("process_vm_readv", 310, "1, 0, 0, 0, 0, 0"),
		denied("pidfd_getfd", 438, "0, 0, 0"),
		denied("kcmp", 312, "1, 1, 0, 0, 0"),
		denied("open_tree", 428, "-100, $root, 1"),
		denied("fsopen", 430, "$fs, 0"),
		denied("reboot (ctrl-alt-del off)", 169, "0xfee1dead, 672274793, 0, 0"),
		denied("acct", 163, "$path"),
		denied("swapoff", 168, "$path"),
		denied("clock_settime", 227, "0, $buf"),
		escapeAttempt{
			class: "kernel", name: "unshare a user namespace",
			attack: "unshare --user --map-root-user true", want: "Operation not permitted",
			control: "unshare --help >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "kernel", name: "unshare a mount namespace", where: asRoot | asUser,
			attack: "unshare --mount true", want: "Operation not permitted",
			control: "true && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "kernel", name: "join pid 1's namespaces",
			attack: "nsenter --target 1 --mount --pid true", want: "",
			control: "readlink /proc/self/ns/mnt", controlWant: "mnt:",
		},
		escapeAttempt{
			class: "kernel", name: "chroot",
			attack: "/usr/sbin/chroot / true", want: "Operation not permitted",
			control: "ls /usr >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "kernel", name: "mount over a denied file",
			attack: "mount --bind ~/.ssh/id_ed25519.pub ~/.ssh/id_ed25519", want: "",
			control: "grep -c . /proc/self/mountinfo", controlWant: "",
		},
		escapeAttempt{
			class: "kernel", name: "unmount what hides a secret", where: asRoot | asUser,
			attack: "umount -l ~/.ssh/id_ed25519; cat ~/.ssh/id_ed25519", want: "Permission denied",
			control: "cat ~/.ssh/id_ed25519.pub", controlWant: "public",
		},
		escapeAttempt{
			class: "kernel", name: "turn off address randomisation",
			attack: "setarch -R true", want: "Operation not permitted",
			control: "setarch x86_64 true && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "kernel", name: "ptrace a sibling",
			attack:  `sleep 5 & perl -e '$r = syscall(101, 16, $ARGV[0], 0, 0); print "ptrace: $!\n"; exit($r == -1 ? 1 : 0)' $!`,
			want:    "ptrace: Operation not permitted",
			control: "sleep 5 & kill $! && echo killed", controlWant: "killed",
		},
		escapeAttempt{
			class: "kernel", name: "raw socket",
			attack:  `perl -MSocket -e 'socket(S, AF_INET, SOCK_RAW, 1) or die "raw: $!\n"'`,
			want:    "raw: ", // EPERM, or EACCES where the degraded tier denies inet sockets other than TCP
			control: `perl -MSocket -e 'socketpair(A, B, AF_UNIX, SOCK_STREAM, 0) or die; print "pair ok\n"'`, controlWant: "pair ok",
		},
		escapeAttempt{
			class: "kernel", name: "packet socket",
			attack:  `perl -e 'socket(S, 17, 3, 0) or die "packet: $!\n"'`,
			want:    "packet: Operation not permitted",
			control: `perl -MSocket -e 'socketpair(A, B, AF_UNIX, SOCK_DGRAM, 0) or die; print "pair ok\n"'`, controlWant: "pair ok",
		},

		// Privileges: none to begin with, and no way to gain any.
		escapeAttempt{
			class: "privilege", name: "no capabilities",
			attack: "grep -E '^Cap(Eff|Prm|Inh|Amb):' /proc/self/status; exit 1",
			held: func(r *runner, res result) error {
				for _, m := range regexp.MustCompile(`Cap(Eff|Prm|Inh|Amb):\s+([0-9a-f]+)`).FindAllStringSubmatch(res.stdout, -1) {
					if regexp.MustCompile(`[1-9a-f]`).MatchString(m[2]) {
						return fmt.Errorf("the agent holds capabilities: %s", res.stdout)
					}
				}
				if len(regexp.MustCompile(`Cap`).FindAllString(res.stdout, -1)) < 4 {
					return fmt.Errorf("no capability lines: %s", res)
				}
				return nil
			},
			control: "grep NoNewPrivs /proc/self/status", controlWant: "1",
		},
		escapeAttempt{
			class: "privilege", name: "setuid su gains nothing",
			attack: "su -s /bin/sh root -c 'grep ^CapEff /proc/self/status' </dev/null; exit 1",
			held: func(r *runner, res result) error {
				if regexp.MustCompile(`CapEff:\s+0*[1-9a-f]`).MatchString(res.stdout) {
					return fmt.Errorf("su gained capabilities: %s", res.stdout)
				}
				return nil
			},
			control: "id -u", controlWant: "",
		},
		escapeAttempt{
			class: "privilege", name: "raise the core-dump limit",
			attack: "ulimit -c unlimited", want: "",
			control: "ulimit -c", controlWant: "0",
		},
		escapeAttempt{
			class: "privilege", name: "hostname", where: asRoot | asUser,
			attack: "hostname evil", want: "",
			control: "hostname", controlWant: "agentrun",
		},
		escapeAttempt{
			class: "privilege", name: "signal a process outside",
			setup:  nil,
			attack: "kill -0 1 2>/dev/null && [ \"$(cat /proc/1/comm)\" != agentrun-stage ] && echo reached-host-init || exit 1",
			held: func(r *runner, res result) error {
				if res.code == 0 {
					return fmt.Errorf("the agent can signal the host's init: %s", res)
				}
				return nil
			},
			control: "sleep 5 & kill -0 $! && echo ok", controlWant: "ok",
		},

		// /proc and /sys: the kernel's knobs stay out of reach.
		escapeAttempt{
			class: "proc-sys", name: "core_pattern",
			attack: "echo '|/tmp/x' > /proc/sys/kernel/core_pattern", want: "",
			control: "cat /proc/sys/kernel/core_pattern >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc-sys", name: "modprobe path",
			attack: "echo /tmp/x > /proc/sys/kernel/modprobe", want: "",
			control: "cat /proc/sys/kernel/ostype", controlWant: "Linux",
		},
		escapeAttempt{
			class: "proc-sys", name: "sysrq trigger",
			attack: "echo h > /proc/sysrq-trigger", want: "",
			control: "cat /proc/self/stat >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc-sys", name: "drop caches",
			attack: "echo 3 > /proc/sys/vm/drop_caches", want: "",
			control: "cat /proc/meminfo | grep -c MemTotal", controlWant: "1",
		},
		escapeAttempt{
			class: "proc-sys", name: "cgroup release_agent",
			attack:  "ok=1; for f in /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent; do [ -e \"$f\" ] || continue; echo /tmp/x > \"$f\" 2>/dev/null && ok=0; done; exit $ok",
			want:    "",
			control: "ls /sys/fs/cgroup >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc-sys", name: "new cgroup",
			attack:  "ok=1; for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do mkdir \"$d/agentrun-escape\" 2>/dev/null && { rmdir \"$d/agentrun-escape\"; ok=0; }; done; exit $ok",
			want:    "",
			control: "cat /proc/self/cgroup >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc-sys", name: "uevent helper",
			attack: "echo /tmp/x > /sys/kernel/uevent_helper", want: "",
			control: "cat /sys/kernel/uevent_seqnum >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc-sys", name: "kernel memory", where: asRoot | asUser,
			attack: "head -c 16 /proc/kcore > k && test -s k", want: "",
			control: "head -c 16 /proc/self/cmdline > c && test -s c && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc-sys", name: "overwrite the stage binary through /proc/1/exe",
			attack: "echo x > /proc/1/exe", want: "",
			control: "ls -l /proc/self/exe", controlWant: "->",
		},
		escapeAttempt{
			class: "proc-sys", name: "overwrite the shell through /proc/self/exe",
			attack: "cat /proc/self/exe > /proc/self/exe", want: "",
			control: "head -c 4 /proc/self/exe | od -c | grep -c E", controlWant: "1",
		},

		// Devices: only the harmless ones exist.
		escapeAttempt{
			class: "device", name: "make a block device",
			attack: "mknod sda b 8 0", want: "",
			control: "mkfifo fifo && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "device", name: "kernel log", where: asRoot | asUser,
			attack: "cat /dev/kmsg", want: "No such file",
			control: "head -c 4 /dev/urandom | wc -c", controlWant: "4",
		},
		escapeAttempt{
			class: "device", name: "physical memory",
			attack: "head -c 1 /dev/mem", want: "",
			control: "head -c 4 /dev/zero | wc -c", controlWant: "4",
		},
		escapeAttempt{
			class: "device", name: "docker socket", where: asRoot | asUser,
			attack: "ls /var/run/docker.sock /run/docker.sock", want: "No such file",
			control: "ls /dev/null", controlWant: "/dev/null",
		},

		// Links: a new name for a secret is still the secret.
		escapeAttempt{
			class: "link", name: "hard link to a denied key",
			attack: "ln ~/.ssh/id_ed25519 k; cat k", want: "",
			held:    notPrinted("PRIVATE KEY"),
			control: "ln README.md hl && cat hl", controlWant: "hello",
		},
		escapeAttempt{
			class: "link", name: "symlink to a denied key",
			attack: "ln -s ~/.ssh/id_ed25519 k && cat k", want: "Permission denied",
			control: "ln -s README.md sl && cat sl", controlWant: "hello",
		},
		escapeAttempt{
			class: "link", name: "rename a denied workspace file", where: asRoot | asUser,
			attack: "mv .env envcopy; cp .env envcopy2; cat envcopy envcopy2", want: "",
			held:    notPrinted("TOKEN=secret"),
			control: "mv README.md R2 && cat R2", controlWant: "hello",
		},
		escapeAttempt{
			class: "link", name: "rename the directory above a denied key",
			attack: "mv ~/.ssh ~/.ssh2; cat ~/.ssh2/id_ed25519", want: "",
			held:    notPrinted("PRIVATE KEY"),
			control: "mkdir d1 && mv d1 d2 && echo ok", controlWant: "ok",
		},
	)
}

// notPrinted is a held check: the attack held when its output does not contain secret.
func notPrinted(secret string) func(*runner, result) error {
	return func(r *runner, res result) error {
		if regexp.MustCompile(regexp.QuoteMeta(secret)).MatchString(res.stdout + res.stderr) {
			return fmt.Errorf("the secret came out: %s", res)
		}
		return nil
	}
}
