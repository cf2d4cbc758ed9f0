//go:build cgo && seccomp

package seccompfilter

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/seccompfilter/seccompprog"
)

// compileLibseccomp compiles the filter of s with libseccomp, for the stage to load without
// libseccomp (see Program.Load): when agentrun is built where its programs are generated
// (programs_linux_amd64.go, TestPrograms), in agentrun elsewhere. It converts the rules as
// libcontainer's seccomp.InitSeccomp does — the same actions, operators and conditions, the
// same filter attributes (binary-tree optimisation past 32 rules, no no_new_privs bit), names
// this architecture lacks left out — and libcontainer loads libseccomp's program as it is
// when the default action allows, as ours does (its ENOSYS stub is for filters that deny by
// default). TestCompileAsLibcontainer checks each program against the one libcontainer loads,
// instruction by instruction.
func compileLibseccomp(s Spec) (*Program, error) { return compileConfig(Build(s)) }

// libseccompVersion is the version of the libseccomp linked in.
func libseccompVersion() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}

// minNotifyAPI is the libseccomp API level of user notifications (libseccomp 2.5, Linux 5.7).
const minNotifyAPI = 6

// optimizeAbove is how many rules make libcontainer ask for libseccomp's binary tree.
const optimizeAbove = 32

func compileConfig(c *configs.Seccomp) (*Program, error) {
	if c.DefaultAction != configs.Allow || c.DefaultErrnoRet != nil {
		return nil, errors.New("compiling the seccomp filter: its default action must be allow (a filter that denies by default needs libcontainer's ENOSYS stub)")
	}
	if len(c.Flags) > 0 {
		return nil, fmt.Errorf("compiling the seccomp filter: flags %v are not handled", c.Flags)
	}
	p := &Program{}
	for _, call := range c.Syscalls {
		if call.Action == configs.Notify {
			if call.Name == "write" {
				return nil, errors.New("compiling the seccomp filter: write cannot be notified (the stage hands over the descriptor with it)")
			}
			p.Listener = true
		}
	}
	if api, _ := libseccomp.GetAPI(); p.Listener && api < minNotifyAPI {
		return nil, fmt.Errorf("compiling the seccomp filter: user notifications need libseccomp API level %d (libseccomp 2.5, Linux 5.7), this one has %d", minNotifyAPI, api)
	}
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return nil, fmt.Errorf("compiling the seccomp filter: %w", err)
	}
	defer f.Release()
	for _, a := range c.Architectures {
		arch, err := libseccomp.GetArchFromString(a)
		if err != nil {
			return nil, fmt.Errorf("compiling the seccomp filter: architecture %s: %w", a, err)
		}
		if err := f.AddArch(arch); err != nil {
			return nil, fmt.Errorf("compiling the seccomp filter: architecture %s: %w", a, err)
		}
	}
	if len(c.Syscalls) > optimizeAbove {
		_ = f.SetOptimize(2) // an older libseccomp compiles a list instead, as for libcontainer
	}
	if err := f.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("compiling the seccomp filter: %w", err)
	}
	for _, call := range c.Syscalls {
		if err := addRule(f, call); err != nil {
			return nil, fmt.Errorf("compiling the seccomp filter: %s: %w", call.Name, err)
		}
	}
	if p.Raw, err = export(f); err != nil {
		return nil, fmt.Errorf("compiling the seccomp filter: %w", err)
	}
	return p, nil
}

// addRule adds call to f; an action the filter already takes by default adds nothing, and a
// call this architecture does not have is left out.
func addRule(f *libseccomp.ScmpFilter, call *configs.Syscall) error {
	act, err := scmpAction(call)
	if err != nil || act == libseccomp.ActAllow {
		return err
	}
	nr, err := libseccomp.GetSyscallFromName(call.Name)
	if err != nil {
		return nil
	}
	if len(call.Args) == 0 {
		return f.AddRule(nr, act)
	}
	var conds []libseccomp.ScmpCondition
	on := map[uint]bool{}
	for _, a := range call.Args {
		// libcontainer turns such a rule into one rule per condition: an OR, where a rule
		// of ours would mean AND. None of ours has one.
		if on[a.Index] {
			return fmt.Errorf("two conditions on argument %d", a.Index)
		}
		on[a.Index] = true
		op, ok := scmpOps[a.Op]
		if !ok {
			return fmt.Errorf("operator %v", a.Op)
		}
		cond, err := libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		if err != nil {
			return err
		}
		conds = append(conds, cond)
	}
	return f.AddRuleConditional(nr, act, conds)
}

var scmpOps = map[configs.Operator]libseccomp.ScmpCompareOp{
	configs.EqualTo:              libseccomp.CompareEqual,
	configs.NotEqualTo:           libseccomp.CompareNotEqual,
	configs.GreaterThan:          libseccomp.CompareGreater,
	configs.GreaterThanOrEqualTo: libseccomp.CompareGreaterEqual,
	configs.LessThan:             libseccomp.CompareLess,
	configs.LessThanOrEqualTo:    libseccomp.CompareLessOrEqual,
	configs.MaskEqualTo:          libseccomp.CompareMaskedEqual,
}

func scmpAction(call *configs.Syscall) (libseccomp.ScmpAction, error) {
	switch call.Action {
	case configs.Allow:
		return libseccomp.ActAllow, nil
	case configs.Errno:
		if call.ErrnoRet == nil {
			return libseccomp.ActErrno.SetReturnCode(int16(unix.EPERM)), nil
		}
		return libseccomp.ActErrno.SetReturnCode(int16(*call.ErrnoRet)), nil
	case configs.Notify:
		return libseccomp.ActNotify, nil
	case configs.Kill, configs.KillThread:
		return libseccomp.ActKillThread, nil
	case configs.KillProcess:
		return libseccomp.ActKillProcess, nil
	}
	return libseccomp.ActInvalid, fmt.Errorf("action %v is not handled", call.Action)
}

// export is f's program, as libseccomp writes it for the kernel.
func export(f *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("agentrun-seccomp", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	m := os.NewFile(uintptr(fd), "agentrun-seccomp")
	defer m.Close()
	if err := f.ExportBPF(m); err != nil { // ExportBPFMem needs libseccomp 2.6
		return nil, err
	}
	if _, err := m.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(m, 8*seccompprog.MaxInsns+1))
}
