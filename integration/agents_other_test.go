//go:build !linux

package integration

func removeAgentInstall() {}
