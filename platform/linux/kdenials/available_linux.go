package kdenials

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
)

// Capability bits in /proc/self/status's CapEff.
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// Permitted is the part of Available that loads nothing, cheap enough for every launch: the
// architecture, this process's capabilities and the kernel's lockdown. A kernel too old for
// the programs is found out by Load.
func Permitted() error {
	if !archSupported {
		return fmt.Errorf("%w: no system call argument layout for this architecture: %s", ErrUnavailable, Hint)
	}
	caps, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("%w: %w: %s", ErrUnavailable, err, Hint)
	}
	if caps&(1<<capSysAdmin) == 0 && caps&(1<<capBPF|1<<capPerfmon) != 1<<capBPF|1<<capPerfmon {
		return fmt.Errorf("%w: loading BPF programs needs root (CAP_BPF and CAP_PERFMON): %s", ErrUnavailable, Hint)
	}
	if b, err := os.ReadFile("/sys/kernel/security/lockdown"); err == nil && strings.Contains(string(b), "[confidentiality]") {
		return fmt.Errorf("%w: the kernel is locked down (confidentiality), which forbids reading kernel memory from BPF: %s", ErrUnavailable, Hint)
	}
	return nil
}

// Available says why the recorder cannot be loaded here, or nil. It needs root (CAP_SYS_ADMIN,
// or CAP_BPF and CAP_PERFMON), a kernel with raw tracepoints, ring buffers and the helpers the
// programs call (Linux 5.8), and no lockdown in confidentiality mode (it forbids reading kernel
// memory, which the programs do for the system call's registers). BTF is not needed.
func Available() error {
	if err := Permitted(); err != nil {
		return err
	}
	checks := []struct {
		what string
		err  func() error
	}{
		{"raw tracepoint programs", func() error { return features.HaveProgramType(ebpf.RawTracepoint) }},
		{"ring buffers", func() error { return features.HaveMapType(ebpf.RingBuf) }},
	}
	for _, fn := range []asm.BuiltinFunc{asm.FnGetNsCurrentPidTgid, asm.FnGetCurrentComm, asm.FnProbeReadKernel, asm.FnProbeReadUserStr, asm.FnRingbufOutput} {
		checks = append(checks, struct {
			what string
			err  func() error
		}{"the BPF helper " + fn.String(), func() error { return features.HaveProgramHelper(ebpf.RawTracepoint, fn) }})
	}
	for _, c := range checks {
		if err := c.err(); err != nil {
			return fmt.Errorf("%w: checking the kernel for %s: %w: %s", ErrUnavailable, c.what, err, Hint)
		}
	}
	return nil
}

// effectiveCaps reads this process's effective capabilities.
func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading capabilities: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("reading capabilities: CapEff: %w", err)
			}
			return caps, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("reading capabilities: %w", err)
	}
	return 0, errors.New("reading capabilities: no CapEff in /proc/self/status")
}
