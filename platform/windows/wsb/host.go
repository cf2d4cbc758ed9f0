package wsb

import (
	"errors"
	"fmt"
	"io"
	"runtime"
)

// Host is what a Windows host offers the wsb backend, as probed (host_windows.go) or as
// a test states it.
type Host struct {
	Windows bool // this is Windows at all
	// Feature is the state of the optional feature Containers-DisposableClientVM as
	// Windows reports it (Enabled, Disabled, EnablePending…); "" when it could not be read.
	Feature string
	// WSBCLI is the wsb command's path ("" when not on PATH); Exe is WindowsSandbox.exe's.
	WSBCLI, Exe string
	// Open: a Windows Sandbox window is open now (it runs one at a time without the wsb
	// command).
	Open bool
}

// FeatureName is Windows Sandbox's optional feature.
const FeatureName = "Containers-DisposableClientVM"

// EnableFix is how to enable Windows Sandbox.
const EnableFix = "in an administrator PowerShell: Enable-WindowsOptionalFeature -Online -FeatureName " + FeatureName + " -All, then restart (Windows Pro, Enterprise or Education with virtualization on in the firmware; Home has no Windows Sandbox)"

// ErrNotWindows is what the wsb backend says on any other OS.
var ErrNotWindows = errors.New("the wsb backend launches Windows Sandbox and runs only on Windows; `agentrun compile --target wsb` writes the file on any OS")

// usable reports whether a run can launch Windows Sandbox here, and why not.
func (h Host) usable() error {
	if !h.Windows {
		return ErrNotWindows
	}
	if _, _, err := chooseLaunch(h.WSBCLI, h.Exe); err != nil {
		return fmt.Errorf("%w; fix: %s", err, EnableFix)
	}
	return nil
}

// writeDoctor writes what the host offers the wsb backend, and the fix when it is missing.
func writeDoctor(w io.Writer, h Host) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("agentrun doctor --backend wsb (Windows Sandbox: a throw-away Hyper-V virtual machine)")
	if !h.Windows {
		p("  %s: %v", runtime.GOOS, ErrNotWindows)
		return nil
	}
	feature := h.Feature
	if feature == "" {
		feature = "unknown (reading it needs an administrator: Get-WindowsOptionalFeature -Online -FeatureName " + FeatureName + ")"
	}
	p("  feature %s: %s", FeatureName, feature)
	found := func(path string) string {
		if path == "" {
			return "not found"
		}
		return path
	}
	p("  wsb command (Windows 11 24H2+): %s", found(h.WSBCLI))
	p("  WindowsSandbox.exe: %s", found(h.Exe))
	l, _, err := chooseLaunch(h.WSBCLI, h.Exe)
	if err != nil {
		p("  agentrun --backend wsb -- CMD refuses to run: %v", err)
		p("  fix: %s", EnableFix)
		return nil
	}
	p("  a run launches with %s", l)
	if l == LaunchExe && h.Open {
		p("  a Windows Sandbox window is open now: without the wsb command Windows runs one at a time; close it before a run")
	}
	p("  confines: the agent sees only the profile's folders (mapped read-only or writable), networking is on or off; no events are recorded, no host allow-list, no exec rules")
	return nil
}

// featureState names Win32_OptionalFeature's InstallState as Get-WindowsOptionalFeature
// does; "" for what is not one of its values.
func featureState(installState string) string {
	switch installState {
	case "1":
		return "Enabled"
	case "2":
		return "Disabled"
	case "3":
		return "Absent (this edition of Windows has no Windows Sandbox: it needs Pro, Enterprise or Education)"
	}
	return ""
}
