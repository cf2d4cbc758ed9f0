package netfilter

import "github.com/agentrun/agentrun/events"

// FlowEvent is the event of decision d on flow f, bytes relayed: named by the decision, else
// by what the flow's first flight named, else by the first name bound to its address (bound,
// from Bindings.Names) — the same event whichever layer decided (the Linux stack, the proxy).
func FlowEvent(f Flow, d Decision, bytes int64, bound []string) events.Event {
	v := events.Denied
	switch {
	case d.WouldDeny:
		v = events.WouldDeny
	case d.Allow:
		v = events.Allowed
	}
	name := d.Name
	if name == "" {
		name = f.Sniffed
	}
	if name == "" && len(bound) > 0 {
		name = bound[0]
	}
	return events.Event{Protocol: f.Proto, Name: name, Address: f.Dst.Addr().String(), Port: f.Dst.Port(), Verdict: v, Rule: d.Rule, Reason: d.Reason, Bytes: bytes}
}
