//go:build !linux

package integration

func maybeDenyUserNSJail() {}
