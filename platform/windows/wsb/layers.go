package wsb

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// The layers of a run in Windows Sandbox.
const (
	LayerVM      = "windows sandbox"
	LayerFolders = "mapped folders"
	LayerNetwork = "networking"
	LayerLost    = "rules a .wsb cannot express"
)

// layersFor lists the layers of a policy placed on Env's stand-ins (Place), compiled
// lossily to know what a .wsb gives up, on host h.
func layersFor(placed *profiles.Policy, res *Result, h Host) []platform.Layer {
	hostErr := h.usable()
	fix := ""
	if hostErr != nil {
		fix = hostErr.Error()
	}
	ro, rw := 0, 0
	var cfg Configuration
	_ = unmarshalWSB(res, &cfg)
	if cfg.MappedFolders != nil {
		for _, m := range cfg.MappedFolders.MappedFolder {
			if m.ReadOnly {
				ro++
			} else {
				rw++
			}
		}
	}
	layers := []platform.Layer{
		{Name: LayerVM, Enforces: fmt.Sprintf("a throw-away Hyper-V virtual machine with a pristine Windows, discarded when its window closes; memory %d MiB, no GPU, clipboard, printer, audio or video", cfg.MemoryInMB),
			Needed: true, Available: hostErr == nil, Fix: fix, Degraded: "cannot: nothing confines the agent without it"},
		{Name: LayerFolders, Enforces: fmt.Sprintf("the agent sees %d host folders read-only and %d writable (the workspace at %s), nothing else of the host", ro, rw, SandboxWorkspace),
			Needed: true, Available: hostErr == nil, Fix: "as for the " + LayerVM + " layer"},
	}
	net := platform.Layer{Name: LayerNetwork, Needed: true, Available: hostErr == nil, Fix: "as for the " + LayerVM + " layer"}
	if placed.Network.None() {
		net.Enforces = "off: the sandbox has no network"
	} else {
		net.Enforces = "on for every address (a .wsb has no host allow-list)"
	}
	layers = append(layers, net)
	if len(res.Lost) > 0 {
		layers = append(layers, platform.Layer{Name: LayerLost, Enforces: lostSummary(res.Lost, placed.Name), Needed: true, Available: false,
			Fix:      "a profile without them, or agentrun's default Windows backend (AppContainer), which enforces them",
			Degraded: "runs without them, each listed"})
	}
	layers = append(layers, platform.Layer{Name: platform.LayerFileEvents, Enforces: "none: a VM reports nothing to agentrun, in any mode", Needed: true, Available: false, Records: true,
		Fix: "none in Windows Sandbox; agentrun's default Windows backend records denials"})
	return layers
}

// unmarshalWSB decodes a compiled .wsb.
func unmarshalWSB(res *Result, cfg *Configuration) error {
	if res == nil {
		return fmt.Errorf("no .wsb")
	}
	return xml.Unmarshal(bareXML(res.WSB), cfg)
}

// lostSummary counts the rules given up by kind, in the order first met: "filesystem.deny
// ×4, exec.allow ×9", and says where each is listed.
func lostSummary(lost []Lost, profile string) string {
	var kinds []string
	count := map[string]int{}
	for _, l := range lost {
		kind, _, _ := strings.Cut(l.Rule, " ")
		kind = strings.TrimSuffix(kind, ":")
		if count[kind] == 0 {
			kinds = append(kinds, kind)
		}
		count[kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s ×%d", k, count[k])
	}
	return fmt.Sprintf("%d rules: %s (agentrun compile --target wsb %s lists each, and why)", len(lost), strings.Join(parts, ", "), clean(profile))
}
