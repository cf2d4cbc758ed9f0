package launcher

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestLinkedDenied finds denied files with other hard links, named or inside a denied
// directory, and leaves singly linked ones alone.
func TestLinkedDenied(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"key", "alone", "aws/credentials", "aws/config"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range [][2]string{{"key", "ws-key"}, {"aws/credentials", "ws-creds"}, {"aws/credentials", "ws-creds2"}} {
		if err := os.Link(filepath.Join(dir, l[0]), filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	deny := func(p string) profiles.PathRule { return profiles.PathRule{Path: filepath.Join(dir, p)} }
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{Deny: []profiles.PathRule{deny("k*"), deny("alone"), deny("aws"), deny("missing")}}}
	got := linkedDenied(pol)
	want := []linkedFile{{Path: filepath.Join(dir, "key"), Links: 2}, {Path: filepath.Join(dir, "aws/credentials"), Links: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("linkedDenied = %v, want %v", got, want)
	}
}
