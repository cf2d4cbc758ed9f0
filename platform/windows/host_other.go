//go:build !windows

package windows

// probeHost says what a host that is not Windows offers: nothing to run agents with.
func probeHost(...string) Host {
	return Host{Why: "this is not Windows"}
}
