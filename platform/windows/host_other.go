//go:build !windows

package windows

// probeHost says what a host that is not Windows offers: nothing to run agents with.
func probeHost(bool) Host {
	return Host{Why: "this is not Windows"}
}
