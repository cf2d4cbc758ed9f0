package sbpl

import (
	"strconv"
	"strings"
)

// What every program of a Node, Python or Go toolchain needs from macOS besides the files the
// policy names. The lists were drawn up from three public profiles that run such toolchains
// under sandbox-exec, each itself derived from Chromium's sandbox/policy/mac/common.sb:
//
//	[codex]  openai/codex codex-rs/core/src/seatbelt_base_policy.sbpl
//	[gemini] google-gemini/gemini-cli packages/cli/src/utils/sandbox-macos-strict-proxied.sb
//	[srt]    anthropic-experimental/sandbox-runtime src/sandbox/macos-sandbox-utils.ts
//
// Each entry says which of them has it. Left out on purpose: the Keychain (com.apple.securityd
// and SecurityServer: the user's secrets), process listing of the whole host
// (com.apple.sysmond), Launch Services, the window server and the GPU.

// sysctlNames are the sysctls the runtimes read: CPU count and features (Node's os.cpus(),
// Go's runtime, V8's and Python's feature detection), memory and page size, the OS version
// (uname, platform modules), process limits, and a process's own entries in kern.proc.
var sysctlNames = []string{
	"hw.activecpu", "hw.busfrequency_compat", "hw.byteorder", "hw.cacheconfig", // codex gemini srt
	"hw.cachelinesize_compat", "hw.cpufamily", "hw.cpufrequency", "hw.cpufrequency_compat",
	"hw.cputype", "hw.l1dcachesize_compat", "hw.l1icachesize_compat", "hw.l2cachesize_compat",
	"hw.l3cachesize_compat", "hw.logicalcpu", "hw.logicalcpu_max", "hw.machine", "hw.memsize",
	"hw.model", "hw.ncpu", "hw.nperflevels", "hw.packages", "hw.pagesize", "hw.pagesize_compat",
	"hw.physicalcpu", "hw.physicalcpu_max", "hw.tbfrequency_compat", "hw.vectorunit",
	"kern.argmax", "kern.hostname", "kern.maxfiles", "kern.maxfilesperproc", "kern.maxproc",
	"kern.ngroups", "kern.osproductversion", "kern.osrelease", "kern.ostype",
	"kern.osvariant_status", "kern.osversion", "kern.secure_kernel", "kern.usrstack64",
	"kern.version", "machdep.cpu.brand_string", "machdep.ptrauth_enabled", // srt
	"sysctl.proc_cputype", "vm.loadavg",
	"kern.tcsm_available", "kern.tcsm_enable", // V8 (srt)
}

// sysctlPrefixes are families of sysctls read by prefix.
var sysctlPrefixes = []string{
	"hw.optional.",    // CPU features: arm.FEAT_*, armv8_*, x86's sse*/avx* (codex, srt name the arm ones)
	"hw.perflevel",    // performance and efficiency cores (codex gemini srt)
	"kern.proc.pgrp.", // (codex srt)
	"kern.proc.pid.",  // a process's own record: ps, psutil, Go's os/user (codex srt)
	"machdep.cpu.",    // (srt)
	"net.routetable.", // getifaddrs, Node's os.networkInterfaces() (codex srt)
}

// sysctlWrites are sysctls that userland "writes" to read them.
var sysctlWrites = []string{
	"kern.grade_cputype", // Java asks with a buffer, which counts as a write (codex)
	"kern.tcsm_enable",   // V8 sets it per thread (srt)
}

// machServices are the Mach services the agent may look up.
var machServices = []string{
	"com.apple.system.opendirectoryd.libinfo",    // getpwuid, getgrgid: whoami, os.userInfo(), os/user (codex srt; crbug.com/792228)
	"com.apple.system.opendirectoryd.membership", // group membership checks (srt)
	"com.apple.system.logger",                    // syslog(3), asl (srt)
	"com.apple.logd",                             // os_log, which every framework writes to (srt)
	"com.apple.system.notification_center",       // notify(3): time zone and network change notices libc waits on (srt)
	"com.apple.PowerManagement.control",          // (codex srt)
	"com.apple.bsd.dirhelper",                    // confstr(_CS_DARWIN_USER_TEMP_DIR/CACHE_DIR) (srt)
}

// writeSystem writes the rules every process of the sandbox needs.
func writeSystem(w *writer) {
	w.section("Processes: fork, signals and process information only within this sandbox; what\n" +
		"may be executed is exec.allow's to say (below). (codex gemini srt)")
	w.rule("(allow process-fork)", "")
	w.rule("(allow signal (target same-sandbox))", "")
	w.rule("(allow process-info* (target same-sandbox))", "")

	w.section("sysctls the runtimes read (Chromium's common.sb, as codex, gemini and srt narrow it).")
	var b strings.Builder
	b.WriteString("(allow sysctl-read")
	for _, n := range sysctlNames {
		b.WriteString("\n  (sysctl-name " + strconv.Quote(n) + ")")
	}
	for _, n := range sysctlPrefixes {
		b.WriteString("\n  (sysctl-name-prefix " + strconv.Quote(n) + ")")
	}
	b.WriteString(")")
	w.line(b.String())
	b.Reset()
	b.WriteString("(allow sysctl-write")
	for _, n := range sysctlWrites {
		b.WriteString(" (sysctl-name " + strconv.Quote(n) + ")")
	}
	w.line(b.String() + ")")

	w.section("Mach services: user and group look-ups, logging, notifications. Not the Keychain.")
	b.Reset()
	b.WriteString("(allow mach-lookup")
	for _, n := range machServices {
		b.WriteString("\n  (global-name " + strconv.Quote(n) + ")")
	}
	w.line(b.String() + ")")
	w.rule("(allow mach-host*)", "host_processor_info: libuv's os.cpus() (codex)")

	w.section("IOKit: the power-management client (codex srt) and device properties (srt).")
	w.rule(`(allow iokit-open (iokit-registry-entry-class "RootDomainUserClient"))`, "")
	w.rule("(allow iokit-get-properties)", "")

	w.section("POSIX semaphores and shared memory: Python's multiprocessing (codex srt).\n" +
		"Preferences through CFPreferences (codex srt).")
	w.rule("(allow ipc-posix-sem)", "")
	w.rule("(allow ipc-posix-shm)", "")
	w.rule("(allow user-preference-read)", "")

	w.section("Devices and terminals. A PTY opened in the sandbox carries the pty extension; the\n" +
		"terminal agentrun hands over was opened before and is written and ioctl'd only (codex).")
	w.rule(`(allow file-read* file-write-data file-ioctl (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty") (literal "/dev/dtracehelper"))`, "")
	w.rule(`(allow file-read* (literal "/dev/random") (literal "/dev/urandom") (subpath "/dev/fd"))`, "")
	w.rule(`(allow file-write-data (subpath "/dev/fd"))`, "")
	w.rule("(allow pseudo-tty)", "")
	w.rule(`(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))`, "")
	ttys := rawRegex(`^/dev/ttys[0-9]+$`)
	w.rule(`(allow file-read* file-write* (require-all (regex `+ttys+`) (extension "com.apple.sandbox.pty")))`, "")
	w.rule(`(allow file-write-data file-ioctl (require-all (regex `+ttys+`) (vnode-type CHARACTER-DEVICE)))`, "")

	w.section("What every program reads on macOS, beyond the policy's system directories: the\n" +
		"frameworks and the dyld shared cache (under /System; Chromium common.sb), Rosetta's\n" +
		"translations (/private/var/db/oah), time zones, and the Xcode\n" +
		"command line tools that /usr/bin/git, make and cc forward to.")
	w.rule(`(allow file-read* file-map-executable (subpath "/System") (subpath "/usr/lib") (subpath "/Library/Apple") (subpath "/private/var/db/oah") (subpath "/Library/Developer/CommandLineTools") (subpath "/Applications/Xcode.app"))`, "")
	w.rule(`(allow process-exec* (subpath "/Library/Developer/CommandLineTools/usr/bin") (subpath "/Applications/Xcode.app/Contents/Developer/usr/bin"))`, "")
	w.rule(`(allow file-read* (subpath "/private/var/db/timezone") (literal "/private/var/db/xcode_select_link") (literal "/private/var/select/sh"))`, "")
	w.rule(`(allow file-read-metadata (vnode-type DIRECTORY) (vnode-type SYMLINK))`,
		"stat every directory and link on the way to a path (realpath, getcwd, Node's module resolution); not their contents (srt)")
}

// writeNetwork allows the agent to reach agentrun's proxy, and nothing else: names and ports
// are the proxy's to check against the policy.
func writeNetwork(w *writer, ports []int) {
	if len(ports) == 0 {
		w.section("Network: none (no proxy port). deny default denies every connection.")
		return
	}
	w.section("Network: only agentrun's proxy on the loopback, which applies the policy's\n" +
		"network rules (names, ports, cloud metadata never). (srt, gemini)")
	for _, p := range ports {
		w.rule(`(allow network-outbound (remote ip "localhost:`+strconv.Itoa(p)+`"))`, "")
	}
	w.rule(`(allow mach-lookup (global-name "com.apple.trustd.agent"))`,
		"certificate checks of Go's crypto/x509 and the Security framework, for TLS through the proxy (srt: its weaker network isolation)")
}

// containerSockets match the sockets of container engines, wherever a home directory is:
// a process that reaches one runs anything as the engine's (often the host's) root.
var containerSockets = []string{
	`^/.+/\.docker/run/`,      // Docker Desktop (gemini)
	`^/.+/\.orbstack/run/`,    // OrbStack (gemini)
	`^/.+/\.colima/`,          // colima: ~/.colima/PROFILE/docker.sock (gemini)
	`^/.+/\.rd/`,              // Rancher Desktop (gemini)
	`^/.+/\.lima/[^/]+/sock/`, // lima instances
}

// writeAlwaysDenied writes what no profile can allow, in audit mode too.
func writeAlwaysDenied(w *writer) {
	w.section("Always denied, in audit mode too: container engines' sockets (Docker, OrbStack,\n" +
		"colima, Rancher Desktop, lima), launchd's ssh-agent socket, and DNS through\n" +
		"mDNSResponder (names are resolved by agentrun's proxy, which checks them).")
	files := []string{`(literal "/private/var/run/docker.sock")`, `(subpath "/private/var/run/docker")`}
	socks := []string{`^/private/var/run/docker\.sock$`}
	for _, re := range containerSockets {
		files = append(files, "(regex "+rawRegex(re)+")")
		socks = append(socks, re)
	}
	w.line("(deny file-read* file-write*\n  " + strings.Join(files, "\n  ") + w.message() + ")")
	for _, re := range socks {
		w.line("(deny network-outbound (remote unix-socket (path-regex " + rawRegex(re) + "))" + w.message() + ")")
	}
	launchd := `^/private/tmp/com\.apple\.launchd\.[^/]+/`
	w.rule("(deny file-read* file-write* (regex "+rawRegex(launchd)+")"+w.message()+")", "SSH_AUTH_SOCK of the login session")
	w.rule("(deny network-outbound (remote unix-socket (path-regex "+rawRegex(launchd)+"))"+w.message()+")", "")
	w.rule("(deny network-outbound (remote unix-socket (path-regex "+rawRegex(`^/private/var/run/mDNSResponder$`)+"))"+w.message()+")", "")
	w.rule(`(deny mach-lookup (global-name "com.apple.dnssd.service")`+w.message()+")", "")
}

// rawRegex writes a fixed regular expression as SBPL's regex literal #"...", in which a
// backslash is the expression's own (not a string escape). The expressions here hold no ".
func rawRegex(re string) string {
	if strings.ContainsRune(re, '"') {
		panic("sbpl: a regex literal cannot hold a double quote: " + re)
	}
	return `#"` + re + `"`
}
