//go:build linux

package kopens

import (
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
