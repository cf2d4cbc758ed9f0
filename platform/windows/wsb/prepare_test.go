package wsb

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

func hostPolicy(t *testing.T, name string) *profiles.Policy {
	t.Helper()
	host := profiles.Env{Home: "/home/ada", Workspace: "/src/project", TmpDir: "/tmp",
		ConfigHome: "/home/ada/.config", DataHome: "/home/ada/.local/share", StateHome: "/home/ada/.local/state", CacheHome: "/home/ada/.cache"}
	pol := profilestest.Builtins(t, host)[name]
	if pol == nil {
		t.Fatalf("no built-in profile %s", name)
	}
	return pol
}

func TestPrepare(t *testing.T) {
	req := runRequest{Policy: hostPolicy(t, "claude"), Home: "/home/ada", Workspace: "/src/project",
		Command: []string{"claude", "-p", "fix it"}, RunFolder: `C:\Users\ada\AppData\Local\agentrun\wsb\run-1\box`}
	// The Windows paths of the host are what the .wsb maps.
	place := func(r runRequest) runRequest { r.Home, r.Workspace = `C:\Users\ada`, `C:\src\project`; return r }

	_, err := prepare(place(req))
	var le *LostError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "network.allow") {
		t.Fatalf("strict: %v, want a LostError naming the network rules", err)
	}

	req.Lossy = true
	p, err := prepare(place(req))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := checkWSB(p.WSB)
	if err != nil {
		t.Fatalf("%v\n%s", err, p.WSB)
	}
	if !strings.Contains(cfg.LogonCommand.Command, `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File C:\agentrun-run\run.ps1`) ||
		!strings.Contains(cfg.LogonCommand.Command, `cd /d C:\Users\WDAGUtilityAccount\workspace`) {
		t.Errorf("logon command %q", cfg.LogonCommand.Command)
	}
	folders := cfg.MappedFolders.MappedFolder
	if folders[0].HostFolder != `C:\src\project` || folders[0].ReadOnly != "false" {
		t.Errorf("first folder %+v, want the writable workspace", folders[0])
	}
	if last := folders[len(folders)-1]; last.SandboxFolder != RunFolder || last.HostFolder != req.RunFolder {
		t.Errorf("last folder %+v, want the run folder", last)
	}
	if !strings.Contains(p.Script, `-FilePath 'claude' -ArgumentList '-p "fix it"'`) {
		t.Errorf("script:\n%s", p.Script)
	}
	if len(p.Result.Lost) == 0 {
		t.Error("lossy: nothing listed as given up")
	}
	if _, err := prepare(runRequest{Policy: req.Policy, Home: `C:\Users\ada`, Workspace: `C:\src\project`}); err == nil {
		t.Error("no command: no error")
	}
}

func TestBackendLayers(t *testing.T) {
	b := &Backend{probe: func() Host { return Host{Windows: true, WSBCLI: `C:\Windows\System32\wsb.exe`} }}
	layers := b.Layers(hostPolicy(t, "claude"))
	byName := map[string]platform.Layer{}
	for _, l := range layers {
		byName[l.Name] = l
	}
	if l := byName[LayerVM]; !l.Available || !l.Needed {
		t.Errorf("vm layer %+v", l)
	}
	if l := byName[LayerNetwork]; !strings.Contains(l.Enforces, "every address") {
		t.Errorf("network layer %+v", l)
	}
	if l := byName[LayerLost]; l.Available || !strings.Contains(l.Enforces, "network.allow ×") || l.Degraded == "" {
		t.Errorf("lost layer %+v", l)
	}
	if l := byName[platform.LayerFileEvents]; l.Available || !l.Records {
		t.Errorf("events layer %+v", l)
	}
	if err := b.Probe(); err != nil {
		t.Errorf("Probe on an enabled host: %v", err)
	}

	none := hostPolicy(t, "base")
	none.Network = profiles.NetworkPolicy{}
	off := &Backend{probe: func() Host { return Host{} }}
	for _, l := range off.Layers(none) {
		switch l.Name {
		case LayerNetwork:
			if !strings.Contains(l.Enforces, "no network") {
				t.Errorf("network layer without network rules: %+v", l)
			}
		case LayerVM:
			if l.Available || !strings.Contains(l.Fix, "runs only on Windows") {
				t.Errorf("vm layer off Windows: %+v", l)
			}
		}
	}
	if err := off.Probe(); !errors.Is(err, ErrNotWindows) {
		t.Errorf("Probe off Windows: %v", err)
	}
}
