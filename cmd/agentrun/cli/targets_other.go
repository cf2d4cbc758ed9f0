//go:build !linux

package cli

func platformTargets() []target { return nil }
