//go:build linux && amd64

package kopens

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/kdenials"
)

// chained loads the kernel denial recorder for this process's namespace and, with withOpens,
// this recorder chained to it, remembering each record's directory (the settled case audit
// mode as root reaches once a directory is judged).
func chained(b *testing.B, withOpens bool) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	dev, ino := selfNamespace(b)
	w, err := kdenials.Load(kdenials.PIDNamespace{Dev: dev, Ino: ino}, []kdenials.Call{{Nr: unix.SYS_OPENAT, Paths: []int{1}}}, []unix.Errno{unix.ENOENT})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	if !withOpens {
		return
	}
	r, err := Load(Options{Tgid: uint32(os.Getpid()), NoWakeup: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Configure(dev, ino); err != nil {
		b.Fatal(err)
	}
	if err := w.Chain(r.Program(), Calls); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			o, err := r.Read(time.Now().Add(10 * time.Millisecond))
			if err == nil {
				if d, ok := o.Parent(); ok {
					_ = r.Remember(d, false)
				}
			} else if !os.IsTimeout(err) {
				return
			}
		}
	}()
	b.Cleanup(func() { _ = w.Unchain(); r.Close(); <-done })
}

// BenchmarkChained: what a system call of the sandbox costs with the denial recorder alone
// (enforce mode), and with this recorder chained to it (audit mode as root), for getppid (no
// open: the chained program's test of the call's number) and for an open and close of a
// file in a remembered directory.
func BenchmarkChained(b *testing.B) {
	p := benchFile(b, 3)
	for _, withOpens := range []bool{false, true} {
		name := "denials"
		if withOpens {
			name = "denials+opens"
		}
		b.Run(name+"/getppid", func(b *testing.B) {
			chained(b, withOpens)
			b.ResetTimer()
			for range b.N {
				unix.Getppid()
			}
		})
		b.Run(name+"/open-remembered", func(b *testing.B) {
			chained(b, withOpens)
			openClose(b, p)
		})
	}
}
