package darwin

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Recorded outputs of csrutil status (macOS 14) and santactl version (Santa 2024.x).
const (
	csrEnabled  = "System Integrity Protection status: enabled.\n"
	csrDisabled = "System Integrity Protection status: disabled.\n"
	csrCustom   = `System Integrity Protection status: unknown (Custom Configuration).

Configuration:
	Apple Internal: disabled
	Kext Signing: enabled
	Filesystem Protections: disabled
	Debugging Restrictions: enabled
	DTrace Restrictions: disabled
	NVRAM Protections: enabled
	BaseSystem Verification: enabled
	Boot-arg Restrictions: enabled
	Kernel Integrity Protections: enabled
	Authenticated Root Requirement: enabled

This is an unsupported configuration, likely to break in the future and leave your machine in an unknown state.
`
	santaVersion = `santad          | 2024.9 (build 732, commit 8f1c2d3e)
santactl        | 2024.9 (build 732, commit 8f1c2d3e)
SystemExtension | 2024.9 (build 732, commit 8f1c2d3e)
`
)

func TestParseCSRUtil(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      SIPStatus
	}{
		{"enabled", csrEnabled, SIPStatus{State: "enabled"}},
		{"disabled", csrDisabled, SIPStatus{State: "disabled"}},
		{"custom", csrCustom, SIPStatus{State: "unknown", Disabled: []string{"Apple Internal", "Filesystem Protections", "DTrace Restrictions"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCSRUtil(tc.out)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if _, err := parseCSRUtil("csrutil: command not found\n"); err == nil || !strings.Contains(err.Error(), "command not found") {
		t.Errorf("unexpected output: %v", err)
	}
}

func TestParseSantaVersion(t *testing.T) {
	got, err := parseSantaVersion(santaVersion)
	want := map[string]string{"santad": "2024.9 (build 732, commit 8f1c2d3e)", "santactl": "2024.9 (build 732, commit 8f1c2d3e)", "SystemExtension": "2024.9 (build 732, commit 8f1c2d3e)"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseSantaVersion("zsh: command not found: santactl"); err == nil {
		t.Error("no error for output without versions")
	}
}

func TestFullDiskAccess(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "granted"},
		{&fs.PathError{Op: "open", Path: "TCC.db", Err: fs.ErrPermission}, "not granted"},
		{&fs.PathError{Op: "open", Path: "TCC.db", Err: fs.ErrNotExist}, "unknown (open TCC.db: file does not exist)"},
	} {
		if got := fullDiskAccess(tc.err); got != tc.want {
			t.Errorf("fullDiskAccess(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestWriteDoctor(t *testing.T) {
	sip, _ := parseCSRUtil(csrCustom)
	santa, _ := parseSantaVersion(santaVersion)
	for _, tc := range []struct {
		name string
		h    Host
		want []string
	}{
		{"good", Host{SandboxExec: true, LogStream: true, SIP: SIPStatus{State: "enabled"}, SantaWhy: "santactl not found", FullDiskAccess: "not granted", TermProgram: "iTerm.app"},
			[]string{"sandbox-exec: /usr/bin/sandbox-exec, applies", "Protection: enabled", "Santa: not installed (santactl not found)", "holds iTerm.app ($TERM_PROGRAM) responsible", "Full Disk Access: not granted"}},
		{"nested, custom SIP, Santa, FDA", Host{SandboxExec: true, Nested: &NestedError{Output: "sandbox_apply: Operation not permitted"}, SIP: sip, Santa: santa, FullDiskAccess: "granted"},
			[]string{"inside another sandbox", "fix: run agentrun from a terminal", "disabled: Apple Internal, Filesystem Protections, DTrace Restrictions", "Santa: installed (SystemExtension 2024.9", "violations: /usr/bin/log missing", "reads every protected file"}},
		{"no sandbox-exec", Host{SandboxExecWhy: "stat /usr/bin/sandbox-exec: no such file or directory", SIPWhy: "csrutil: not found"},
			[]string{"sandbox-exec: missing (stat", "refuses to run", "Protection: unknown (csrutil: not found)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeDoctor(&b, tc.h); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("doctor output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestLayersFor(t *testing.T) {
	pol := samplePolicy()
	byName := func(ls []platform.Layer) map[string]platform.Layer {
		m := map[string]platform.Layer{}
		for _, l := range ls {
			m[l.Name] = l
		}
		return m
	}
	l := byName(layersFor(pol, Host{SandboxExec: true, LogStream: true}))
	if !l[LayerSeatbelt].Available || l[LayerEgress].Needed || l[LayerResources].Needed || !l[platform.LayerFileEvents].Records {
		t.Errorf("layers of a policy without network or limits: %+v", l)
	}
	pol.Network.Allow = []profiles.NetRule{{}}
	pol.Resources.MemoryBytes = 1 << 30
	l = byName(layersFor(pol, Host{}))
	if l[LayerSeatbelt].Available || !l[LayerEgress].Needed || !l[LayerResources].Needed || l[LayerResources].Available || l[LayerResources].Fix == "" {
		t.Errorf("layers of a policy with network and limits on a host without sandbox-exec: %+v", l)
	}
}

func TestDecideLayers(t *testing.T) {
	pol := samplePolicy()
	pol.Resources.Pids = 100
	layers := layersFor(pol, Host{SandboxExec: true})
	if _, err := platform.DecideLayers(layers, false, LayerSeatbelt); err == nil || !strings.Contains(err.Error(), "resources layer") || !strings.Contains(err.Error(), "no cgroups") {
		t.Errorf("limits without --allow-degraded: %v", err)
	}
	given, err := platform.DecideLayers(layers, true, LayerSeatbelt)
	if err != nil || len(given) != 1 || given[0].Name != LayerResources {
		t.Errorf("--allow-degraded gave up %+v, %v", given, err)
	}
	// The file events layer only records: missing, it never stops a run.
	if _, err := platform.DecideLayers(layersFor(samplePolicy(), Host{SandboxExec: true}), false, LayerSeatbelt); err != nil {
		t.Errorf("without log stream: %v", err)
	}
	_, err = platform.DecideLayers(layersFor(samplePolicy(), Host{SandboxExecWhy: "gone"}), true, LayerSeatbelt)
	if err == nil || !strings.Contains(err.Error(), "nothing confines the agent") {
		t.Errorf("without sandbox-exec, even degraded: %v", err)
	}
}
