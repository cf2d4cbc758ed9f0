package launcher

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// TestOwnFilesDenied: whatever the profile, agentrun's state and configuration directories
// are denied, named as agentrun's own files, and created at launch so that they can be hidden.
func TestOwnFilesDenied(t *testing.T) {
	home := t.TempDir()
	ws := filepath.Join(home, "project")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	for _, v := range []string{"XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"} {
		t.Setenv(v, "")
	}
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"base", "claude"} {
		plan, err := Prepare(cat, Request{Command: []string{"sh"}, Profile: name, Workspace: ws})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{".local/state/agentrun/events.db", ".config/agentrun/profiles/claude.yaml"} {
			d := plan.Policy.CheckFile(filepath.Join(home, p), profiles.AccessRead)
			if d.Allow || !strings.Contains(d.Rule, "agentrun's own files") {
				t.Errorf("%s: %s: %+v, want denied by agentrun's own files", name, p, d)
			}
		}
		if err := createOwnDirs(plan.Policy, plan.env, plan.backend); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{".local/state/agentrun", ".config/agentrun"} {
			fi, err := os.Lstat(filepath.Join(home, d))
			if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s after createOwnDirs: %v, %v; want a directory of mode 0700", d, fi, err)
			}
		}
	}
	if _, err := Prepare(cat, Request{Command: []string{"sh"}, Profile: "base", Workspace: filepath.Join(home, ".config/agentrun")}); err == nil || !strings.Contains(err.Error(), "agentrun's own files") {
		t.Errorf("a workspace inside agentrun's own files: %v, want refused", err)
	}
}

// TestMkdirOwned creates only inside the user's own directories and never through a link it
// did not expect.
func TestMkdirOwned(t *testing.T) {
	dir := t.TempDir()
	uid, gid := os.Getuid(), os.Getgid()
	if err := mkdirOwned(filepath.Join(dir, "a/b/c"), uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := mkdirOwned(filepath.Join(dir, "a/b/c"), uid, gid); err != nil {
		t.Errorf("again: %v", err)
	}
	if err := mkdirOwned(filepath.Join(dir, "x/y"), uid+1, gid); err == nil || !strings.Contains(err.Error(), "belongs to uid") {
		t.Errorf("inside another user's directory: %v, want refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("created inside another user's directory: %v", err)
	}
}

// stateBackend is a backend whose runtime state lives in dir.
type stateBackend struct {
	platform.Backend
	dir string
}

func (b stateBackend) RuntimeDirs() []string { return []string{b.dir} }

// TestRuntimeDirsDenied: the backend's runtime state is one of agentrun's own files.
func TestRuntimeDirsDenied(t *testing.T) {
	home := t.TempDir()
	state := filepath.Join(home, ".cache/agentrun")
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{Read: []profiles.PathRule{{Path: home}}}}
	AddLaunchRules(pol, profiles.Env{Home: home, StateHome: filepath.Join(home, ".local/state"), ConfigHome: filepath.Join(home, ".config")}, stateBackend{platform.Unsupported(), state})
	if d := pol.CheckFile(filepath.Join(state, "run/x"), profiles.AccessRead); d.Allow || !strings.Contains(d.Rule, "agentrun's own files") {
		t.Errorf("%s: %+v, want denied by agentrun's own files", state, d)
	}
}

// TestUnrunnableCommandRefused: a profile that does not let the agent run the command (a
// fragment used alone) is refused before launch with the fix, not left to the sandbox's "no
// such file or directory"; its twin under base runs, and audit mode lets it through.
func TestUnrunnableCommandRefused(t *testing.T) {
	home := t.TempDir()
	ws := filepath.Join(home, "project")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Prepare(cat, Request{Command: []string{"sh"}, Profile: "node", Workspace: ws})
	if err != nil {
		t.Fatal(err)
	}
	err = plan.Runnable()
	if !errors.Is(err, ErrCannotExecute) || !strings.Contains(err.Error(), "the profile node does not let the agent run it") || !strings.Contains(err.Error(), "extends base") {
		t.Errorf("sh under the node fragment alone: want a refusal naming the profile and the fix, got %v", err)
	}
	if ExitCode(err) != ExitCannotExecute {
		t.Errorf("exit code %d, want %d", ExitCode(err), ExitCannotExecute)
	}
	if err := os.WriteFile(filepath.Join(ws, "agent.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(ws)
	for _, req := range []Request{
		{Command: []string{"sh"}, Profile: "base", Workspace: ws},
		{Command: []string{"./agent.sh"}, Profile: "base", Workspace: ws}, // relative, in the workspace base runs
		{Command: []string{"sh"}, Profile: "node", Workspace: ws, Mode: profiles.ModeAudit},
	} {
		plan, err := Prepare(cat, req)
		if err == nil {
			err = plan.Runnable()
		}
		if err != nil {
			t.Errorf("sh under %s in mode %q: %v", req.Profile, req.Mode, err)
		}
	}
}
