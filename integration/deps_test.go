package integration

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestPortableBuildsStayPortable checks that the macOS and Windows builds of agentrun do not
// pull in the Linux-only container and kernel libraries.
func TestPortableBuildsStayPortable(t *testing.T) {
	for _, goos := range []string{"darwin", "windows"} {
		cmd := exec.Command("go", "list", "-deps", "../cmd/agentrun")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list for %s: %v", goos, err)
		}
		for _, banned := range []string{"github.com/opencontainers/runc", "github.com/landlock-lsm", "github.com/seccomp", "gvisor.dev"} {
			if strings.Contains(string(out), banned) {
				t.Errorf("the %s build depends on %s", goos, banned)
			}
		}
	}
}

// TestFrontEndKnowsNoBackend checks that the command line and the launcher reach the sandbox
// only through platform.Backend: neither depends on a platform/linux package (main chooses
// the backend and passes it in).
func TestFrontEndKnowsNoBackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "seccomp", "../cmd/agentrun/cli", "../launcher").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "/platform/linux") {
			t.Errorf("cmd/agentrun/cli or launcher depends on %s; use the platform.Backend main passes in", p)
		}
	}
}

// TestNoContainerRuntime checks that agentrun builds its sandbox itself: neither
// libcontainer's container lifecycle (its root package, runc init's nsenter) nor anything that
// only serves it is linked in; its AppArmor and configuration packages may be.
func TestNoContainerRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "seccomp", "../cmd/agentrun").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// The filter is compiled with libseccomp as libcontainer converts it (seccompfilter.Compile,
	// checked against libcontainer's loaded program by its tests): libcontainer's seccomp
	// package is a test's oracle, not agentrun's.
	allowed := map[string]bool{
		"github.com/opencontainers/runc/libcontainer/configs":  true,
		"github.com/opencontainers/runc/libcontainer/apparmor": true,
		"github.com/opencontainers/runc/internal/linux":        true, // used by apparmor
		"github.com/opencontainers/runc/internal/pathrs":       true, // used by apparmor
	}
	found := false
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/opencontainers/runc/") {
			continue
		}
		if p == "github.com/opencontainers/runc/libcontainer/apparmor" {
			found = true
		}
		if !allowed[p] {
			t.Errorf("cmd/agentrun links %s: only libcontainer's AppArmor and configuration packages belong in agentrun", p)
		}
	}
	if !found {
		t.Error("go list shows no libcontainer/apparmor: the check would prove nothing")
	}
}

// TestStaticOnAMD64 checks that the agentrun scripts/build.sh makes on amd64 is one static
// binary built without cgo and without libseccomp: its seccomp filters are compiled when it
// is built (seccompfilter/programs_linux_amd64.go). The binary's own record of its build
// (kept in a stripped binary) says which modules are in it and how it was built.
func TestStaticOnAMD64(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("elsewhere agentrun links libseccomp and libc")
	}
	bi, err := buildinfo.ReadFile(agentrunBin)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/seccomp/libseccomp-golang" {
			t.Errorf("%s links %s %s", agentrunBin, d.Path, d.Version)
		}
	}
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" && s.Value != "0" {
			t.Errorf("%s was built with CGO_ENABLED=%s", agentrunBin, s.Value)
		}
	}
	f, err := elf.Open(agentrunBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header: it is not static", agentrunBin, p.Type)
		}
	}
}
