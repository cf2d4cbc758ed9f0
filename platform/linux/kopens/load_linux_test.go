//go:build linux && amd64

package kopens

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

func TestLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dev, ino := selfNamespace(t)
	r, err := Load(Options{NsDev: dev, NsIno: ino, Tgid: uint32(os.Getpid()), LogVerifier: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines := strings.Split(strings.TrimSpace(r.prog.VerifierLog), "\n")
	t.Logf("verifier: %s", strings.Join(lines[max(0, len(lines)-3):], " | "))
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

// TestNothingLeft: after Close, our program is gone from the kernel (by its ID).
func TestNothingLeft(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dev, ino := selfNamespace(t)
	r, err := Load(Options{NsDev: dev, NsIno: ino})
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.prog.Info()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	id, _ := info.ID()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The kernel frees a detached tracing program after an RCU grace period: wait for it.
	start := time.Now()
	for {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			break
		}
		p.Close()
		if time.Since(start) > 5*time.Second {
			t.Fatalf("program %d still loaded 5 s after Close", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("program %d gone %v after Close", id, time.Since(start))
}
