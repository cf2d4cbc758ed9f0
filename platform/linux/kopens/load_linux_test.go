//go:build linux

package kopens

import (
	"github.com/cilium/ebpf"
	"os"
	"testing"
	"time"
)

func TestLoad(t *testing.T)       { testLoad(t, false) }
func TestLoadDirect(t *testing.T) { testLoad(t, true) }

func testLoad(t *testing.T, direct bool) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dev, ino := selfNamespace(t)
	r, err := Load(Options{NsDev: dev, NsIno: ino, Tgid: uint32(os.Getpid()), LogVerifier: true, Direct: direct})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for {
		o, err := r.Read(time.Now().Add(2 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", o)
		if o.Path == "/etc/hostname" {
			break
		}
	}
}

// TestNothingLeft: after Close (and after a failed Load), no program of ours stays loaded.
func TestNothingLeft(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	before := tracingPrograms(t)
	dev, ino := selfNamespace(t)
	r, err := Load(Options{NsDev: dev, NsIno: ino, Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := tracingPrograms(t); n != before+1 {
		t.Errorf("%d tracing programs loaded, %d before", n, before)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The kernel frees a detached program after an RCU grace period: wait for it.
	start := time.Now()
	for tracingPrograms(t) != before {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d tracing programs 5 s after Close, %d before", tracingPrograms(t), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("gone %v after Close", time.Since(start))
}

func tracingPrograms(t *testing.T) int {
	n := 0
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return n
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if p.Type() == ebpf.Tracing {
			n++
		}
		p.Close()
	}
}
