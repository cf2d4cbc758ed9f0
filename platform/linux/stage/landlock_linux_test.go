package stage

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// The stage's Landlock ruleset, applied for real by a child process (Landlock restricts every
// thread of the process that applies it, and for good): in the Landlock + seccomp tier it is
// the only boundary and refuses reads outside the policy; in the namespace tier, where the
// mount view is the read boundary, it leaves reads, listings and truncation to the mounts
// (integration's escape suite truncates protected files there) and still refuses writes,
// creates, removals, execs, and moving or linking a file in from outside the policy.

const envLandlockChild = "AGENTRUN_TEST_LANDLOCK_CHILD" // "direct" or "namespaces"; the directory in envLandlockDir
const envLandlockDir = "AGENTRUN_TEST_LANDLOCK_DIR"

func TestMain(m *testing.M) {
	if tier := os.Getenv(envLandlockChild); tier != "" {
		if err := landlockChild(tier, os.Getenv(envLandlockDir)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// landlockChild applies the stage's ruleset for tier with a read rule on dir/read and a write
// rule on dir/write, then prints one line per attempt: its name and the errno, or "ok".
func landlockChild(tier, dir string) error {
	cfg := &Config{
		RequireLandlock: true,
		Landlock: []Rule{
			{Path: filepath.Join(dir, "read"), Rights: "r"},
			{Path: filepath.Join(dir, "write"), Rights: "rw"},
		},
	}
	if tier == "namespaces" {
		cfg.Sandbox = &Sandbox{}
		// As the stage in its namespaces has once it dropped its privileges; the direct
		// tier's stage has not, and applyLandlock sets it.
		if err := ll.AllThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return err
		}
	}
	if err := applyLandlock(cfg); err != nil {
		return err
	}
	outside := filepath.Join(dir, "outside")
	attempts := []struct {
		name string
		do   func() error
	}{
		{"read-allowed", func() error { return readFile(filepath.Join(dir, "read", "f")) }},
		{"read-outside", func() error { return readFile(filepath.Join(outside, "f")) }},
		{"list-outside", func() error { _, err := os.ReadDir(outside); return err }},
		{"write-allowed", func() error { return os.WriteFile(filepath.Join(dir, "write", "new"), []byte("x"), 0o644) }},
		{"write-outside", func() error { return openWrite(filepath.Join(outside, "f")) }},
		{"create-outside", func() error { return os.WriteFile(filepath.Join(outside, "new"), []byte("x"), 0o644) }},
		{"remove-outside", func() error { return os.Remove(filepath.Join(outside, "f")) }},
		{"mkdir-in-read", func() error { return os.Mkdir(filepath.Join(dir, "read", "d"), 0o755) }},
		{"exec-outside", func() error { return exec.Command(filepath.Join(outside, "prog")).Run() }},
		// The ways around a write rule: truncating without opening, moving a file out of
		// the policy in, or linking it in, then writing it where writes are allowed.
		{"truncate-outside", func() error { return os.Truncate(filepath.Join(outside, "f"), 0) }},
		{"rename-in", func() error { return os.Rename(filepath.Join(outside, "f"), filepath.Join(dir, "write", "moved")) }},
		{"link-in", func() error { return os.Link(filepath.Join(outside, "f"), filepath.Join(dir, "write", "linked")) }},
	}
	for _, a := range attempts {
		res := "ok"
		if err := a.do(); err != nil {
			var errno unix.Errno
			if !errors.As(err, &errno) {
				return fmt.Errorf("%s: %v", a.name, err)
			}
			res = unix.ErrnoName(errno)
		}
		fmt.Printf("%s %s\n", a.name, res)
	}
	return nil
}

func readFile(p string) error { _, err := os.ReadFile(p); return err }

func openWrite(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err == nil {
		f.Close()
	}
	return err
}

func TestStageLandlockRuleset(t *testing.T) {
	if abi, err := ll.LandlockGetABIVersion(); err != nil || abi < 3 {
		t.Skipf("needs Landlock ABI 3 or newer (truncation): %v", err)
	}
	want := map[string]map[string]string{
		"direct": {
			"read-allowed": "ok", "read-outside": "EACCES", "list-outside": "EACCES",
			"write-allowed": "ok", "write-outside": "EACCES", "create-outside": "EACCES",
			"remove-outside": "EACCES", "mkdir-in-read": "EACCES", "exec-outside": "EACCES",
			"truncate-outside": "EACCES", "rename-in": "EACCES", "link-in": "EXDEV",
		},
		// Reads (and truncation, which read-only binds refuse) are the mounts' to refuse: Landlock no longer walks every open's path.
		"namespaces": {
			"read-allowed": "ok", "read-outside": "ok", "list-outside": "ok",
			"write-allowed": "ok", "write-outside": "EACCES", "create-outside": "EACCES",
			"remove-outside": "EACCES", "mkdir-in-read": "EACCES", "exec-outside": "EACCES",
			"truncate-outside": "ok", "rename-in": "EACCES", "link-in": "EXDEV",
		},
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for tier, expect := range want {
		t.Run(tier, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range []string{"read", "write", "outside"} {
				if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for name, body := range map[string]string{"read/f": "r", "outside/f": "o", "outside/prog": "#!/bin/sh\nexit 0\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), envLandlockChild+"="+tier, envLandlockDir+"="+dir)
			out, err := cmd.Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("child: %v: %s", err, ee.Stderr)
				}
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if name, res, ok := strings.Cut(line, " "); ok {
					got[name] = res
				}
			}
			for name, w := range expect {
				if got[name] != w {
					t.Errorf("%s: %s, want %s", name, got[name], w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "outside", "f")); err != nil {
				t.Errorf("the file outside the policy was removed: %v", err)
			}
		})
	}
}

func TestLandlockHandled(t *testing.T) {
	direct, ns := landlockHandled(false), landlockHandled(true)
	for _, a := range []uint64{ll.AccessFSWriteFile, ll.AccessFSMakeReg, ll.AccessFSRemoveFile, ll.AccessFSRefer, ll.AccessFSExecute, ll.AccessFSIoctlDev} {
		if uint64(ns)&a == 0 || uint64(direct)&a == 0 {
			t.Errorf("access %#x is not handled in both tiers", a)
		}
	}
	for _, a := range []uint64{ll.AccessFSReadFile, ll.AccessFSReadDir, ll.AccessFSTruncate} {
		if uint64(direct)&a == 0 {
			t.Errorf("the Landlock + seccomp tier does not handle %#x", a)
		}
		if uint64(ns)&a != 0 {
			t.Errorf("the namespace tier handles %#x, which makes every open walk its path", a)
		}
	}
}

// TestLandlockRightsOnFilesAndDirs: a rule's rights are those its letters name, within what
// the tier handles, and only those that apply to files when the rule names a file (Landlock
// refuses the others there) — whether or not landlockRights needs to look at the path.
func TestLandlockRightsOnFilesAndDirs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, namespaces := range []bool{false, true} {
		handled := landlockHandled(namespaces)
		for _, p := range []string{dir, file, filepath.Join(dir, "missing")} {
			for _, rights := range []string{"r", "rw", "x", "d", "rd", "rwd"} {
				got := landlockRights(Rule{Path: p, Rights: rights}, handled)
				want := rightsOf(rights)
				if p == file {
					want &= llFileRights
				}
				if want &= handled; got != want {
					t.Errorf("namespaces %v, %s %q: rights %#x, want %#x", namespaces, p, rights, uint64(got), uint64(want))
				}
			}
		}
	}
}
