package seccompfilter

import (
	"maps"
	"slices"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// Report is which file and exec calls a filter reports to agentrun.
type Report int

const (
	// ReportNothing: none (the unix socket gate's calls are reported in every filter).
	ReportNothing Report = iota
	// ReportExecs: execs only. Enforce mode's where the kernel reports the calls it refuses
	// (the denial records layer): no file call waits for agentrun.
	ReportExecs
	// ReportWrites: execs and the calls that write (an open for writing, creating or
	// truncating; mkdir, rename, unlink, link, chmod and the like).
	ReportWrites
	// ReportAll: every call of Calls.
	ReportAll
)

// Call is a file or exec call a filter may report: its name, and the arguments that decide
// whether it is reported.
type Call struct {
	Name  string
	Flags int // the open flags argument, or -1
	Empty int // the flags argument where AT_EMPTY_PATH may be set, or -1
}

// Calls are the calls a filter may report, by number: the *at calls every architecture has,
// and the older forms the architecture still has.
var Calls = func() map[uintptr]Call {
	m := map[uintptr]Call{}
	for nr, c := range atCalls {
		m[nr] = c
	}
	for nr, c := range legacyCalls {
		m[nr] = c
	}
	return m
}()

// named is a Call without flag arguments.
func named(name string) Call { return Call{Name: name, Flags: -1, Empty: -1} }

var atCalls = map[uintptr]Call{
	unix.SYS_OPENAT:      {Name: "openat", Flags: 2, Empty: -1},
	unix.SYS_OPENAT2:     named("openat2"), // its flags are in memory the filter cannot read
	unix.SYS_EXECVE:      named("execve"),
	unix.SYS_EXECVEAT:    {Name: "execveat", Flags: -1, Empty: 4},
	unix.SYS_UNLINKAT:    named("unlinkat"),
	unix.SYS_RENAMEAT2:   named("renameat2"),
	unix.SYS_MKDIRAT:     named("mkdirat"),
	unix.SYS_LINKAT:      named("linkat"),
	unix.SYS_SYMLINKAT:   named("symlinkat"),
	unix.SYS_TRUNCATE:    named("truncate"),
	unix.SYS_MKNODAT:     named("mknodat"),
	unix.SYS_FCHMODAT:    named("fchmodat"),
	unix.SYS_FCHOWNAT:    named("fchownat"),
	unix.SYS_UTIMENSAT:   named("utimensat"),
	unix.SYS_SETXATTR:    named("setxattr"),
	unix.SYS_LSETXATTR:   named("lsetxattr"),
	unix.SYS_REMOVEXATTR: named("removexattr"),
}

// gateSockets makes the filter report the calls that may reach a unix socket by its path:
// connect, sendto with an address (without one it goes to the connected peer), and sendmsg
// and sendmmsg, whose address is behind a pointer the filter cannot follow.
//
// The send rules come in pairs, MSG_FASTOPEN clear and set, rather than one rule without
// conditions: libseccomp lets a rule without conditions override every conditional rule of
// the same call, which would undo the Landlock + seccomp tier's denial of TCP Fast Open (see
// inetRules). Where that denial is in the filter (fastOpenDenied), the set half is left to it;
// elsewhere it is gated too, since a unix datagram send ignores the flag.
func gateSockets(s *configs.Seccomp, fastOpenDenied bool) {
	s.Syscalls = append(s.Syscalls, &configs.Syscall{Name: "connect", Action: configs.Notify})
	fastOpen := []uint64{0}
	if !fastOpenDenied {
		fastOpen = append(fastOpen, unix.MSG_FASTOPEN)
	}
	for _, fo := range fastOpen {
		flags := func(i uint) *configs.Arg {
			return &configs.Arg{Index: i, Op: configs.MaskEqualTo, Value: unix.MSG_FASTOPEN, ValueTwo: fo}
		}
		s.Syscalls = append(s.Syscalls,
			&configs.Syscall{Name: "sendto", Action: configs.Notify, Args: []*configs.Arg{flags(3), {Index: 4, Op: configs.NotEqualTo, Value: 0}}},
			&configs.Syscall{Name: "sendmsg", Action: configs.Notify, Args: []*configs.Arg{flags(2)}},
			&configs.Syscall{Name: "sendmmsg", Action: configs.Notify, Args: []*configs.Arg{flags(3)}},
		)
	}
}

// addReportRules makes filter s report the calls of r. A rule without conditions would take
// precedence over s's denials of the same call (libseccomp lets it), so a watched call that s
// denies for some arguments is reported only for the others.
func addReportRules(s *configs.Seccomp, r Report) {
	for _, nr := range slices.Sorted(maps.Keys(Calls)) { // the same rules in the same order each time
		c := Calls[nr]
		if r == ReportExecs && c.Name != "execve" && c.Name != "execveat" {
			continue
		}
		sc := &configs.Syscall{Name: c.Name, Action: configs.Notify}
		switch {
		case c.Flags >= 0 && r != ReportAll:
			// Only an open that writes, one rule for each flag that makes it one (rules of
			// one call and one action are alternatives). Those that create are reported
			// without a set-ID bit in their mode: the filter's denials of the rest (see
			// setIDRules) start with the same test, which libseccomp will not have both end
			// a rule and go on.
			for _, f := range writeFlags {
				args := []*configs.Arg{{Index: uint(c.Flags), Op: configs.MaskEqualTo, Value: f, ValueTwo: f}}
				if f == unix.O_CREAT || f == unix.O_TMPFILE&^unix.O_DIRECTORY {
					args = append(args, &configs.Arg{Index: uint(c.Flags + 1), Op: configs.MaskEqualTo, Value: unix.S_ISUID | unix.S_ISGID, ValueTwo: 0})
				}
				s.Syscalls = append(s.Syscalls, &configs.Syscall{Name: c.Name, Action: configs.Notify, Args: args})
			}
			continue
		case c.Flags >= 0:
			// O_PATH opens only make a handle (Landlock's rules are hundreds of them at
			// start): the filter lets them through without a round trip.
			sc.Args = []*configs.Arg{{Index: uint(c.Flags), Op: configs.MaskEqualTo, Value: unix.O_PATH, ValueTwo: 0}}
		case c.Name == "execveat":
			// execveat of a descriptor is denied (see Denials).
			sc.Args = []*configs.Arg{{Index: uint(c.Empty), Op: configs.MaskEqualTo, Value: unix.AT_EMPTY_PATH, ValueTwo: 0}}
		}
		s.Syscalls = append(s.Syscalls, sc)
	}
}

// writeFlags are the open flags any of which makes an open a write.
var writeFlags = []uint64{unix.O_WRONLY, unix.O_RDWR, unix.O_CREAT, unix.O_TRUNC, unix.O_TMPFILE &^ unix.O_DIRECTORY}

// OpenWrites reports whether an open with flags writes: the filter's test in ReportWrites,
// and the judge's.
func OpenWrites(flags uint64) bool {
	for _, f := range writeFlags {
		if flags&f != 0 {
			return true
		}
	}
	return false
}
