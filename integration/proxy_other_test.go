//go:build !linux

package integration

func maybeServeProxy() {}
