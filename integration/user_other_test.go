//go:build !linux

package integration

func removeTestUser() {}
