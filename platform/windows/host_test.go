package windows

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

func layerNamed(layers []platform.Layer, name string) platform.Layer {
	for _, l := range layers {
		if l.Name == name {
			return l
		}
	}
	return platform.Layer{}
}

// TestLayersDecide: enforce mode needs the AppContainer and never goes on without it; a
// profile with network needs its container's loopback exemption (or an administrator) and
// gives the network up with --allow-degraded; file events only record.
func TestLayersDecide(t *testing.T) {
	pol := &profiles.Policy{Name: "claude", Mode: profiles.ModeEnforce}
	win := Host{Windows: true, AppContainer: true, Exempt: map[string]bool{}}
	if _, err := platform.DecideLayers(layersFor(pol, win), false, LayerAppContainer); err != nil {
		t.Errorf("no network, AppContainer there: %v", err)
	}
	noAC := Host{Windows: true, Why: "old Windows"}
	var le *platform.LayerError
	if _, err := platform.DecideLayers(layersFor(pol, noAC), true, LayerAppContainer); !errors.As(err, &le) || le.Layer != LayerAppContainer || !strings.Contains(err.Error(), "nothing confines") {
		t.Errorf("without AppContainer, degraded: %v", err)
	}
	pol.Network.Allow = []profiles.NetRule{{Host: "api.anthropic.com"}}
	if _, err := platform.DecideLayers(layersFor(pol, win), false, LayerAppContainer); !errors.As(err, &le) || le.Layer != LayerEgress || !strings.Contains(err.Error(), "agentrun setup") {
		t.Errorf("network, not exempt: %v", err)
	}
	given, err := platform.DecideLayers(layersFor(pol, win), true, LayerAppContainer)
	if err != nil || len(given) != 1 || given[0].Name != LayerEgress {
		t.Errorf("network, not exempt, degraded: gave up %v, %v", given, err)
	}
	for _, h := range []Host{
		{Windows: true, AppContainer: true, Exempt: map[string]bool{"agentrun.claude": true}},
		{Windows: true, AppContainer: true, Admin: true},
	} {
		if _, err := platform.DecideLayers(layersFor(pol, h), false, LayerAppContainer); err != nil {
			t.Errorf("network, %+v: %v", h, err)
		}
	}
	if l := layerNamed(layersFor(pol, win), platform.LayerFileEvents); !l.Records || l.Available {
		t.Errorf("file events layer: %+v", l)
	}
	pol.Mode = profiles.ModeAudit
	if _, err := platform.DecideLayers(layersFor(pol, noAC), false, LayerAppContainer); err != nil {
		t.Errorf("audit mode needs no AppContainer: %v", err)
	}
}

func TestDoctorText(t *testing.T) {
	for _, c := range []struct {
		h    Host
		want []string
	}{
		{Host{Why: "this is not Windows"}, []string{"not Windows", "AppContainer: unavailable (this is not Windows)", "loopback exemptions: unknown"}},
		{Host{Windows: true, Version: "10.0.22631", AppContainer: true, Exempt: map[string]bool{}, ExemptCount: 3}, []string{"Windows 10.0.22631", "AppContainer: available", "none of agentrun's built-in profiles' containers (3 containers in all)", "agentrun setup"}},
		{Host{Windows: true, AppContainer: true, Exempt: map[string]bool{"agentrun.codex": true, "agentrun.base": true}, ExemptCount: 2}, []string{"loopback exemptions: agentrun.base, agentrun.codex (2 containers in all)"}},
		{Host{Windows: true, AppContainer: true, Admin: true}, []string{"administrator: yes"}},
	} {
		var b strings.Builder
		if err := writeDoctor(&b, c.h); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("doctor for %+v lacks %q:\n%s", c.h, w, b.String())
			}
		}
	}
}
