package platform

// DecideLayers returns the error that stops a run whose needed layer is missing, or the
// layers --allow-degraded gives up (marked unavailable in layers). essential names the layer
// without which nothing confines the agent: it is never given up. Layers that only record
// never stop a run.
func DecideLayers(layers []Layer, allowDegraded bool, essential string) (givenUp []Layer, err error) {
	for i, l := range layers {
		if !l.Needed || l.Available || l.Records {
			continue
		}
		if !allowDegraded || l.Name == essential {
			le := &LayerError{Layer: l.Name, Enforces: l.Enforces, Fix: l.Fix, Degraded: l.Degraded}
			if l.Name == essential {
				le.Degraded = "cannot: nothing confines the agent without it"
			}
			return nil, le
		}
		layers[i].Available = false
		givenUp = append(givenUp, l)
	}
	return givenUp, nil
}
