package kdenials

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"golang.org/x/sys/unix"
)

// BenchmarkLoad is the time to make the maps, load and verify the program and attach it.
func BenchmarkLoad(b *testing.B) {
	needRoot(b)
	c := startChild(b, "open-secret", fixture(b), true)
	ns, err := NamespaceOf(c.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	calls, errnos := testCalls, testErrnos
	for b.Loop() {
		w, err := Load(ns, calls, errnos)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkHostSyscall is the cost of a system call made outside the sandbox's namespace,
// without and with the recorder attached: the cost every process on the host pays. With
// empty programs attached instead, it is the floor: the raw_syscalls tracepoints' own cost.
func BenchmarkHostSyscall(b *testing.B) {
	needRoot(b)
	b.Run("detached", benchGetppid)
	b.Run("empty-programs", func(b *testing.B) {
		for _, tp := range []string{"sys_exit"} {
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, License: "GPL",
				Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tp, Program: p})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
		}
		benchGetppid(b)
	})
	c := startChild(b, "open-secret", fixture(b), true)
	ns, err := NamespaceOf(c.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	w, err := Load(ns, testCalls, testErrnos)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.Run("attached", benchGetppid)
}

func benchGetppid(b *testing.B) {
	for b.Loop() {
		unix.Getppid()
	}
}
