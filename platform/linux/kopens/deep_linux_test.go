//go:build linux && amd64

package kopens

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/kdenials"
)

// readUntil reads records until one of path comes (returned) or the marker /etc/hostname
// comes first (ok false).
func readUntil(t *testing.T, r *Recorder, path string) (Open, bool) {
	t.Helper()
	var got *Open
	for {
		o, err := r.Read(time.Now().Add(2 * time.Second))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("no record of the marker after %s", path)
		} else if err != nil {
			t.Fatal(err)
		}
		switch {
		case o.Path == path || o.Status != Complete && strings.HasSuffix(path, o.Path):
			got = &o
		case o.Path == "/etc/hostname":
			if got == nil {
				return Open{}, false
			}
			return *got, true
		}
	}
}

// makeFile makes an empty file at p, and its directories.
func makeFile(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadSelf loads and attaches the recorder for this process alone, closed when the test
// ends.
func loadSelf(t *testing.T) *Recorder {
	t.Helper()
	dev, ino := selfNamespace(t)
	r, err := Load(Options{NsDev: dev, NsIno: ino, Tgid: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// openThenMarker opens p, then /etc/hostname, the marker readUntil stops at.
func openThenMarker(t *testing.T, p string) {
	t.Helper()
	for _, p := range []string{p, "/etc/hostname"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// TestDeepPaths: a path of up to maxComponents names is recorded whole, with a key for each
// name; a deeper one is recorded truncated, its last names kept.
func TestDeepPaths(t *testing.T) {
	root := rootTempDir(t)
	base := strings.Count(root, "/")
	fits := filepath.Join(root, strings.Repeat("d/", maxComponents-base-1)+"f") // maxComponents names
	deeper := filepath.Join(root, strings.Repeat("e/", maxComponents-base+5)+"f")
	makeFile(t, fits)
	makeFile(t, deeper)
	r := loadSelf(t)
	openThenMarker(t, fits)
	o, ok := readUntil(t, r, fits)
	if !ok || o.Status != Complete || o.Path != fits || len(o.Dirs) != maxComponents {
		t.Errorf("a path of %d names: %v, status %d, %d keys, %q; want it whole", maxComponents, ok, o.Status, len(o.Dirs), o.Path)
	}
	openThenMarker(t, deeper)
	o, ok = readUntil(t, r, deeper)
	if !ok || o.Status != Truncated || !strings.HasSuffix(deeper, o.Path) || strings.Count(o.Path, "/") != maxComponents {
		t.Errorf("a path of %d names: %v, status %d, %q; want its last %d names, truncated", strings.Count(deeper, "/"), ok, o.Status, o.Path, maxComponents)
	}
}

// TestChained: run by the kernel denial recorder (kdenials' Chain) rather than on its own
// tracepoint, the recorder records the namespace's successful opens, and the denial recorder
// its failed ones, side by side; after Unchain it records nothing.
func TestChained(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dev, ino := selfNamespace(t)
	ns := kdenials.PIDNamespace{Dev: dev, Ino: ino}
	w, err := kdenials.Load(ns, []kdenials.Call{{Nr: unix.SYS_OPENAT, Paths: []int{1}}}, []unix.Errno{unix.ENOENT})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := Load(Options{Tgid: uint32(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Configure(dev, ino); err != nil {
		t.Fatal(err)
	}
	if err := w.Chain(r.Program(), Calls); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := os.Open(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("opening %s: %v", missing, err)
	}
	openThenMarker(t, "/etc/hosts")
	if _, ok := readUntil(t, r, "/etc/hosts"); !ok {
		t.Error("a successful open, chained: no record")
	}
	for {
		rec, err := w.Read()
		if err != nil {
			t.Fatalf("the denial recorder, chained to: %v", err)
		}
		if len(rec.Paths) > 0 && rec.Paths[0].Name == missing {
			break
		}
	}
	if err := w.Unchain(); err != nil {
		t.Fatal(err)
	}
	openThenMarker(t, "/etc/hosts")
	if o, err := r.Read(time.Now().Add(200 * time.Millisecond)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a record after Unchain: %+v, %v", o, err)
	}
}
