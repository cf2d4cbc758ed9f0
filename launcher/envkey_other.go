//go:build !windows

package launcher

// envKey is how the host compares variable names: exactly.
func envKey(name string) string { return name }
