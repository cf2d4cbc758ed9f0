//go:build linux && amd64

package kopens

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// benchFile makes a file depth directories deep under a temporary directory.
func benchFile(b *testing.B, depth int) string {
	dir := b.TempDir()
	p := filepath.Join(dir, strings.Repeat("d/", depth))
	if err := os.MkdirAll(p, 0o755); err != nil {
		b.Fatal(err)
	}
	p = filepath.Join(p, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

func openClose(b *testing.B, path string) {
	b.ResetTimer()
	for range b.N {
		fd, err := unix.Open(path, unix.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		unix.Close(fd)
	}
}

// attach loads the recorder for this process (record) or for a namespace nobody is in, and
// drains its records until the benchmark ends.
func attach(b *testing.B, record bool) *atomic.Int64 { return attachOpt(b, record, false, false) }

func attachOpt(b *testing.B, record, noWakeup, remember bool) *atomic.Int64 {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	dev, ino := selfNamespace(b)
	opt := Options{NsDev: dev, NsIno: ino, Tgid: uint32(os.Getpid())}
	if !record {
		opt.NsIno++ // no task is in it: what every other open of the host pays
	}
	opt.NoWakeup = noWakeup
	var stats io.Closer = nopCloser{}
	if os.Getenv("KOPENS_STATS") != "" { // the kernel's run-time statistics cost every run too
		var err error
		if stats, err = ebpf.EnableStats(0); err != nil { // BPF_STATS_RUN_TIME
			b.Fatal(err)
		}
	}
	r, err := Load(opt)
	if err != nil {
		stats.Close()
		b.Fatal(err)
	}
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			o, err := r.Read(time.Now().Add(10 * time.Millisecond))
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					continue
				}
				return
			}
			if remember {
				if d, ok := o.Parent(); ok {
					_ = r.Remember(d, false)
				}
			}
			n.Add(1)
		}
	}()
	b.Cleanup(func() {
		runs, d := r.runtime()
		if runs > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(runs), "prog-ns/run")
		}
		stats.Close()
		r.Close()
		<-done
		if d := r.Drops(); d > 0 {
			b.Logf("%d drops, %d read", d, n.Load())
		}
	})
	return &n
}

func BenchmarkOpenDetached(b *testing.B) { openClose(b, benchFile(b, 3)) }

func BenchmarkOpenOtherNamespace(b *testing.B) {
	p := benchFile(b, 3)
	attach(b, false)
	openClose(b, p)
}

func BenchmarkOpenRecorded(b *testing.B) {
	p := benchFile(b, 3)
	attach(b, true)
	openClose(b, p)
}

func BenchmarkOpenRecordedNoWakeup(b *testing.B) {
	p := benchFile(b, 3)
	attachOpt(b, true, true, false)
	openClose(b, p)
}

func BenchmarkOpenRecordedDeepNoWakeup(b *testing.B) {
	p := benchFile(b, 12)
	attachOpt(b, true, true, false)
	openClose(b, p)
}

func BenchmarkOpenRecordedDeep(b *testing.B) {
	p := benchFile(b, 12) // 16 components with /tmp/BenchmarkX/001
	attach(b, true)
	openClose(b, p)
}

func BenchmarkGetppidDetached(b *testing.B) {
	for range b.N {
		unix.Getppid()
	}
}

func BenchmarkGetppidAttached(b *testing.B) {
	attach(b, false)
	b.ResetTimer()
	for range b.N {
		unix.Getppid()
	}
}

func BenchmarkLoad(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	dev, ino := selfNamespace(b)
	for range b.N {
		r, err := Load(Options{NsDev: dev, NsIno: ino})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

func BenchmarkOpenDetachedDeep(b *testing.B) { openClose(b, benchFile(b, 12)) }

// BenchmarkOpenRemembered: opens in a directory the reader has remembered (after the first):
// what audit mode's reads cost where agentrun has judged the directory.
func BenchmarkOpenRemembered(b *testing.B) {
	p := benchFile(b, 3)
	attachOpt(b, true, true, true)
	openClose(b, p)
}

func BenchmarkOpenRememberedDeep(b *testing.B) {
	p := benchFile(b, 12)
	attachOpt(b, true, true, true)
	openClose(b, p)
}

// runtime returns the program's runs and its total run time, when the kernel's BPF statistics
// are on.
func (r *Recorder) runtime() (uint64, time.Duration) {
	s, err := r.prog.Stats()
	if err != nil {
		return 0, 0
	}
	return s.RunCount, s.Runtime
}
