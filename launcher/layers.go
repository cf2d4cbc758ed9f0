package launcher

import (
	"fmt"
	"io"
	"runtime"
)

// describeLayers writes which mechanism enforces what for the plan on this host.
func (p *Plan) describeLayers(w io.Writer) {
	layers := p.backend.Layers(p.Policy)
	if len(layers) == 0 {
		fmt.Fprintf(w, "  layers\tnone: no sandbox backend for %s in this build\n", runtime.GOOS)
	}
	for _, l := range layers {
		state := "on"
		switch {
		case !l.Needed && !l.Available:
			state = "n/a"
		case !l.Needed:
			state = "off"
		case !l.Available && l.Records:
			state = "unavailable" // said, but the run goes on: it records, it confines nothing
		case !l.Available:
			state = "MISSING"
		}
		fmt.Fprintf(w, "  layer %s\t%s: %s\n", l.Name, state, l.Enforces)
		if l.Needed && !l.Available {
			fmt.Fprintf(w, "  \t  fix: %s\n", l.Fix)
			if l.Degraded != "" && !l.Records {
				fmt.Fprintf(w, "  \t  --allow-degraded: %s\n", l.Degraded)
			}
		}
	}
}
