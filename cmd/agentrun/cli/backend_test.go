package cli

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/launcher"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/windows/wsb"
)

// runMain runs agentrun with the wsb backend named, in a home of its own, and returns its
// exit code, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	home := t.TempDir()
	for _, v := range []string{"HOME", "USERPROFILE", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"} {
		t.Setenv(v, home)
	}
	var stdout, stderr bytes.Buffer
	code := Main(platform.Unsupported(), append([]string{"agentrun"}, args...), strings.NewReader(""), &stdout, &stderr,
		NamedBackend{Name: "wsb", Backend: wsb.NewBackend()})
	return code, stdout.String(), stderr.String()
}

// agentCommand is a program that exists on every OS: this test binary.
func agentCommand(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestBackendUnknown(t *testing.T) {
	code, _, stderr := runMain(t, "--backend", "nope", "--", agentCommand(t))
	if code != launcher.ExitError {
		t.Errorf("exit %d, want %d", code, launcher.ExitError)
	}
	for _, want := range []string{`--backend "nope" is not a backend of this build (it has wsb)`, "hint: write --backend wsb"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestBackendNoneNamed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(platform.Unsupported(), []string{"agentrun", "--backend", "wsb", "--", "x"}, strings.NewReader(""), &stdout, &stderr)
	if code != launcher.ExitError || !strings.Contains(stderr.String(), "this build has no other backend") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestBackendWSBOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows the wsb backend runs (run_windows_test.go in platform/windows/wsb)")
	}
	code, _, stderr := runMain(t, "--backend", "wsb", "--", agentCommand(t))
	if code != launcher.ExitError {
		t.Errorf("exit %d, want %d", code, launcher.ExitError)
	}
	want := "agentrun: the wsb backend launches Windows Sandbox and runs only on Windows; `agentrun compile --target wsb` writes the file on any OS"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

func TestBackendWSBDryRun(t *testing.T) {
	ws := t.TempDir()
	code, stdout, stderr := runMain(t, "--dry-run", "--backend", "wsb", "--workspace", ws, "--profile", "base", "--", agentCommand(t))
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"layer windows sandbox", "layer mapped folders", "layer networking", "off: the sandbox has no network", "layer rules a .wsb cannot express", "exec.allow ×", "layer file events", "a VM reports nothing"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, stdout)
		}
	}
	if runtime.GOOS != "windows" && !strings.Contains(stdout, "runs only on Windows") {
		t.Errorf("dry run off Windows does not say the wsb backend runs only there:\n%s", stdout)
	}
}

func TestDoctorBackend(t *testing.T) {
	code, stdout, stderr := runMain(t, "doctor", "--backend", "wsb")
	if code != 0 || !strings.Contains(stdout, "agentrun doctor --backend wsb") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code, _, stderr = runMain(t, "doctor", "--backend", "nope"); code != launcher.ExitError || !strings.Contains(stderr, "not a backend") {
		t.Errorf("doctor --backend nope: exit %d, stderr:\n%s", code, stderr)
	}
}
