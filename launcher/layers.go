package launcher

import (
	"fmt"
	"io"
	"runtime"

	"github.com/agentrun/agentrun/platform"
)

// describeLayers writes which mechanism enforces what for the plan on this host.
func (p *Plan) describeLayers(w io.Writer) {
	layers := p.backend.Layers(p.Policy)
	if len(layers) == 0 {
		fmt.Fprintf(w, "  layers\tnone: no sandbox backend for %s in this build\n", runtime.GOOS)
	}
	for _, l := range layers {
		state := layerState(l)
		fmt.Fprintf(w, "  layer %s\t%s: %s\n", l.Name, state, l.Enforces)
		if l.Needed && !l.Available {
			fmt.Fprintf(w, "  \t  fix: %s\n", l.Fix)
			if l.Degraded != "" && !l.Records {
				fmt.Fprintf(w, "  \t  --allow-degraded: %s\n", l.Degraded)
			}
		}
	}
}

// layerState is a layer's state as --dry-run and the report say it: on, off, n/a,
// unavailable (a layer that only records) or MISSING.
func layerState(l platform.Layer) string {
	switch {
	case !l.Needed && !l.Available:
		return "n/a"
	case !l.Needed:
		return "off"
	case !l.Available && l.Records:
		return "unavailable" // said, but the run goes on: it records, it confines nothing
	case !l.Available:
		return "MISSING"
	}
	return "on"
}
