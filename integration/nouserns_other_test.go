//go:build !linux

package integration

func maybeDenyUserNSJail() {}

func maybeServeFakeInternet() {}
