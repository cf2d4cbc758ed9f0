package darwin

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Host is what a Mac offers agentrun, as doctor reports it and Layers decides from it.
type Host struct {
	SandboxExec    bool         // /usr/bin/sandbox-exec is there
	SandboxExecWhy string       // why not, or why it failed its probe
	Nested         *NestedError // the probe found agentrun inside another sandbox (doctor only)
	LogStream      bool         // /usr/bin/log is there: violations become events
	SIP            SIPStatus
	SIPWhy         string            // why SIP's state is not known
	Santa          map[string]string // component → version, from santactl version; nil: not installed
	SantaWhy       string
	FullDiskAccess string // "granted", "not granted" or "unknown (…)": this process, as TCC sees it
	TermProgram    string // $TERM_PROGRAM: the app TCC holds responsible for the agent
}

// SIPStatus is System Integrity Protection's state as `csrutil status` prints it.
type SIPStatus struct {
	State string // "enabled", "disabled" or "unknown" (a custom configuration)
	// Disabled are the protections a custom configuration turns off ("Filesystem
	// Protections", …).
	Disabled []string
}

// parseCSRUtil reads `csrutil status`: the status line, and for a custom configuration the
// protections listed as disabled.
func parseCSRUtil(out string) (SIPStatus, error) {
	const prefix = "System Integrity Protection status:"
	var s SIPStatus
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			rest = strings.TrimSpace(rest)
			for _, st := range []string{"enabled", "disabled", "unknown"} {
				if strings.HasPrefix(rest, st) {
					s.State = st
				}
			}
			continue
		}
		if s.State == "" {
			continue
		}
		if name, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(val) == "disabled" {
			s.Disabled = append(s.Disabled, strings.TrimSpace(name))
		}
	}
	if s.State == "" {
		return SIPStatus{}, fmt.Errorf("reading csrutil status: no %q line in %q", prefix, firstLine(out))
	}
	return s, nil
}

// parseSantaVersion reads `santactl version`: a "component | version" line per part of Santa.
func parseSantaVersion(out string) (map[string]string, error) {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		name, ver, ok := strings.Cut(line, "|")
		if name, ver = strings.TrimSpace(name), strings.TrimSpace(ver); ok && name != "" && ver != "" {
			m[name] = ver
		}
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("reading santactl version: no \"component | version\" line in %q", firstLine(out))
	}
	return m, nil
}

// fullDiskAccess says what opening the user's TCC database tells of this process: TCC lets
// only a process with Full Disk Access read it.
func fullDiskAccess(openErr error) string {
	switch {
	case openErr == nil:
		return "granted"
	case errors.Is(openErr, fs.ErrPermission):
		return "not granted"
	default:
		return fmt.Sprintf("unknown (%v)", openErr)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// Layer names on macOS.
const (
	LayerSeatbelt  = "sandbox-exec"
	LayerEgress    = "egress proxy"
	LayerResources = "resources"
)

// layersFor lists the mechanisms pol is compiled to on h.
func layersFor(pol *profiles.Policy, h Host) []platform.Layer {
	fix := h.SandboxExecWhy
	if fix == "" {
		fix = "/usr/bin/sandbox-exec ships with macOS; restore it (it is protected by SIP)"
	}
	layers := []platform.Layer{
		{Name: LayerSeatbelt, Enforces: "files, programs and network from the SBPL profile the policy compiles to", Needed: true, Available: h.SandboxExec, Fix: fix},
		{Name: LayerEgress, Enforces: "network only through agentrun's proxy, which applies the policy's names and ports", Needed: !pol.Network.None(), Available: true},
		{Name: platform.LayerFileEvents, Enforces: "the sandbox's reports from the unified log (log stream) as events", Needed: true, Available: h.LogStream,
			Fix: "/usr/bin/log ships with macOS; restore it", Records: true},
	}
	res := pol.Resources
	layers = append(layers, platform.Layer{Name: LayerResources, Enforces: "memory, process and CPU limits", Needed: res != (profiles.Resources{}), Available: false,
		Fix: "macOS has no cgroups: remove resources: from the profile to run it here", Degraded: "runs without the limits"})
	return layers
}

// writeDoctor writes what h offers agentrun.
func writeDoctor(w io.Writer, h Host) error {
	var b strings.Builder
	b.WriteString("agentrun doctor\n  darwin: sandbox-exec backend\n")
	line := func(format string, args ...any) { fmt.Fprintf(&b, "  "+format+"\n", args...) }
	switch {
	case !h.SandboxExec:
		line("sandbox-exec: missing (%s): agentrun -- CMD refuses to run", h.SandboxExecWhy)
	case h.Nested != nil:
		line("sandbox-exec: present, but agentrun runs inside another sandbox: %s", h.Nested.Error())
	default:
		line("sandbox-exec: %s, applies profiles here", SandboxExec)
	}
	if h.LogStream {
		line("violations: read from the unified log (/usr/bin/log stream) as events")
	} else {
		line("violations: /usr/bin/log missing: denials are not recorded")
	}
	switch h.SIP.State {
	case "":
		line("System Integrity Protection: unknown (%s)", h.SIPWhy)
	case "enabled":
		line("System Integrity Protection: enabled")
	case "disabled":
		line("System Integrity Protection: disabled: system binaries, sandbox-exec included, can be replaced by root; enable it from Recovery (csrutil enable)")
	default:
		line("System Integrity Protection: custom configuration, disabled: %s", strings.Join(h.SIP.Disabled, ", "))
	}
	if h.Santa == nil {
		line("Santa: not installed (%s); agentrun compile --target santa writes rules for it", h.SantaWhy)
	} else {
		names := make([]string, 0, len(h.Santa))
		for n := range h.Santa {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = n + " " + h.Santa[n]
		}
		line("Santa: installed (%s); agentrun compile --target santa writes its File Access Authorization rules", strings.Join(parts, ", "))
	}
	who := "this terminal"
	if h.TermProgram != "" {
		who = h.TermProgram + " ($TERM_PROGRAM)"
	}
	line("TCC: macOS holds %s responsible for the agent; Full Disk Access: %s", who, h.FullDiskAccess)
	if h.FullDiskAccess == "granted" {
		line("  the sandbox profile still confines the agent, but anything run outside agentrun from here reads every protected file")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
