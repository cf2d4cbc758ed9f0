//go:build cgo && seccomp

package seccompfilter

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkCompileAndLoad is what a launch spends on its filter: libseccomp's compile
// (compile/…: when agentrun is built on amd64, in agentrun elsewhere) and the stage's load
// (load/…, on its critical path). Each load goes on a thread of its own that ends with it, as filters cannot
// be taken off a thread.
func BenchmarkCompileAndLoad(b *testing.B) {
	for _, c := range []struct {
		name string
		spec Spec
	}{{"nothing-reported", Spec{}}, {"enforce", Spec{Report: ReportWrites}}, {"direct-no-inet", Spec{NoInet: true, Report: ReportWrites}}} {
		b.Run("compile/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := compileLibseccomp(c.spec); err != nil {
					b.Fatal(err)
				}
			}
		})
		p, err := Compile(c.spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("load/"+c.name, func(b *testing.B) {
			for b.Loop() {
				done := make(chan error)
				go func() {
					runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
					if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
						done <- err
						return
					}
					fd, err := p.Load()
					if fd >= 0 {
						unix.Close(fd)
					}
					done <- err
				}()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
