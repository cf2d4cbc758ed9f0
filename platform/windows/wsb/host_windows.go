package wsb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// probeHost finds the launchers and whether a sandbox is open; full also reads the optional
// feature's state (through PowerShell and CIM, a second or so: doctor only).
func probeHost() Host { return probe(false) }

func probe(full bool) Host {
	h := Host{Windows: true}
	if p, err := exec.LookPath("wsb.exe"); err == nil {
		h.WSBCLI = p
	}
	if sys, err := windows.GetSystemDirectory(); err == nil {
		if p := filepath.Join(sys, "WindowsSandbox.exe"); fileExists(p) {
			h.Exe = p
		}
	}
	if h.Exe == "" {
		if p, err := exec.LookPath("WindowsSandbox.exe"); err == nil {
			h.Exe = p
		}
	}
	names, _ := processNames()
	h.Open = sandboxOpen(names)
	if full {
		h.Feature = readFeature()
	}
	return h
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// readFeature is the optional feature's state from Win32_OptionalFeature, which a user
// without administrator rights may read (Get-WindowsOptionalFeature needs one).
func readFeature() string {
	ps, err := exec.LookPath("powershell.exe")
	if err != nil {
		return ""
	}
	out, err := exec.Command(ps, "-NoProfile", "-NonInteractive", "-Command",
		"(Get-CimInstance -ClassName Win32_OptionalFeature -Filter \"Name='"+FeatureName+"'\").InstallState").Output()
	if err != nil {
		return ""
	}
	return featureState(strings.TrimSpace(string(out)))
}
