package linux

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/profiles"
)

// ociArch names the native architecture as OCI seccomp profiles do.
var ociArch = map[string]specs.Arch{
	"amd64": specs.ArchX86_64, "arm64": specs.ArchAARCH64, "386": specs.ArchX86, "arm": specs.ArchARM,
	"riscv64": specs.ArchRISCV64, "ppc64le": specs.ArchPPC64LE, "s390x": specs.ArchS390X,
}

var ociOps = map[configs.Operator]specs.LinuxSeccompOperator{
	configs.EqualTo: specs.OpEqualTo, configs.NotEqualTo: specs.OpNotEqual, configs.MaskEqualTo: specs.OpMaskedEqual,
	configs.GreaterThan: specs.OpGreaterThan, configs.GreaterThanOrEqualTo: specs.OpGreaterEqual,
	configs.LessThan: specs.OpLessThan, configs.LessThanOrEqualTo: specs.OpLessEqual,
}

// CompileSeccomp writes the sandbox's seccomp filter as an OCI runtime-spec profile (the
// "linux.seccomp" object of config.json), for use with other runtimes or Kubernetes.
func CompileSeccomp(*profiles.Policy) ([]byte, error) {
	s := seccompfilter.Denials(false)
	out := specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for _, a := range s.Architectures {
		out.Architectures = append(out.Architectures, ociArch[a])
	}
	for _, c := range s.Syscalls {
		sc := specs.LinuxSyscall{Names: []string{c.Name}, Action: specs.ActErrno, ErrnoRet: c.ErrnoRet}
		for _, a := range c.Args {
			op, ok := ociOps[a.Op]
			if !ok {
				return nil, fmt.Errorf("seccomp operator %d has no OCI name", a.Op)
			}
			sc.Args = append(sc.Args, specs.LinuxSeccompArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: op})
		}
		out.Syscalls = append(out.Syscalls, sc)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// CompileLandlock writes, for people, what the sandbox's mounts and Landlock ruleset make of
// the policy on this host: paths as they exist now, globs expanded.
func CompileLandlock(pol *profiles.Policy) ([]byte, error) {
	return describeFilesystem(pol, fsplan.HostStat, profiles.ReadDirNames), nil
}

func describeFilesystem(pol *profiles.Policy, stat fsplan.StatFunc, list fsplan.ListFunc) []byte {
	fs := fsplan.BuildOn(pol, stat, list)
	var b strings.Builder
	fmt.Fprintf(&b, "# agentrun filesystem plan for profile %q\n", pol.Name)
	b.WriteString("# Mounts rebuild the host's view (in this order); Landlock then allows only what is listed.\n\nmounts:\n")
	for _, m := range fs.Mounts {
		kind := map[fsplan.Access]string{fsplan.Read: "read-only bind", fsplan.Write: "read-write bind", fsplan.Protect: "read-only bind (protect)", fsplan.Deny: "hidden (deny)"}[m.Access]
		if m.Pin {
			kind = "read-write bind (pin: cannot be renamed or removed)"
		}
		if m.NoExec {
			kind += ", noexec"
		}
		fmt.Fprintf(&b, "  %-40s %s\n", m.Path, kind)
	}
	tmp := "private tmpfs"
	if fs.TmpNoExec {
		tmp += ", noexec"
	}
	fmt.Fprintf(&b, "  %-40s %s\n", fsplan.PrivateTmp, tmp)
	for _, m := range fs.ExecDeny {
		fmt.Fprintf(&b, "  %-40s %s\n", m.Path, "noexec bind over itself (exec.deny)")
	}
	b.WriteString("\nlandlock (ABI up to 7; signals and abstract unix sockets scoped to the sandbox; with the mounts above it\nrefuses writes, creates, removals and execs, and leaves reads to the mounts; without them, reads too):\n")
	rights := map[string]string{"r": "read", "rw": "read, write, create, remove", "x": "execute", "d": "list directories"}
	rules := landlockRules(pol, fs)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Path < rules[j].Path })
	for _, r := range rules {
		fmt.Fprintf(&b, "  %-40s %s\n", r.Path, rights[r.Rights])
	}
	if len(fs.Skipped) > 0 {
		b.WriteString("\nnot applied (the path does not exist now):\n")
		for _, s := range fs.Skipped {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	return []byte(b.String())
}
