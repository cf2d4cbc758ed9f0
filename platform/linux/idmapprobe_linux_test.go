package linux

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// TestIDMapProbe idmaps detached copies of real trees: a tmpfs can be idmapped (Linux 6.3+),
// a ramfs cannot, and neither can a tree with a ramfs mounted beneath it.
func TestIDMapProbe(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the probe makes a user namespace and clones mounts: run as root")
	}
	base := t.TempDir()
	tmp, ram := filepath.Join(base, "tmpfs"), filepath.Join(base, "tmpfs", "ramfs")
	for _, m := range []struct{ fs, dir string }{{"tmpfs", tmp}, {"ramfs", ram}} {
		if err := os.Mkdir(m.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", m.fs, m.fs, m.dir).CombinedOutput(); err != nil {
			t.Skipf("mounting a %s: %v: %s", m.fs, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", m.dir).Run() })
	}
	sub := filepath.Join(tmp, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := newIDMapProbe(rootfs.IDMapping{OwnerUID: 0, OwnerGID: 0, UID: agentUID, GID: agentUID})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, tc := range []struct {
		path    string
		want    bool
		wantErr error
	}{
		{path: sub, want: true},
		{path: ram},
		{path: tmp},
		{path: filepath.Join(tmp, "absent"), wantErr: errNoTree},
	} {
		got, err := p.supports(tc.path)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("supports(%s) = %v, %v; want %v, %v", tc.path, got, err, tc.want, tc.wantErr)
		}
	}
}
