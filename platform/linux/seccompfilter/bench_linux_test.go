//go:build cgo && seccomp

package seccompfilter

import (
	"runtime"
	"testing"

	"github.com/opencontainers/runc/libcontainer/seccomp"
	"golang.org/x/sys/unix"
)

// BenchmarkCompileAndLoad is what the stage spends on its filter between Landlock and the
// agent: libseccomp compiles it and the kernel loads it (the stage's loadFilter). Each load
// goes on a thread of its own that ends with it, as filters cannot be taken off a thread.
func BenchmarkCompileAndLoad(b *testing.B) {
	for _, c := range []struct {
		name string
		spec Spec
	}{{"nothing-reported", Spec{}}, {"enforce", Spec{Report: ReportWrites}}, {"direct-no-inet", Spec{NoInet: true, Report: ReportWrites}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				done := make(chan error)
				go func() {
					runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
					if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
						done <- err
						return
					}
					fd, err := seccomp.InitSeccomp(Build(c.spec))
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
