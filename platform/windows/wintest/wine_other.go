//go:build !windows

package wintest

// UnderWine reports whether this process runs under wine: never on this OS.
func UnderWine() bool { return false }

// WineVersion is wine's version, or "" when not under wine.
func WineVersion() string { return "" }
