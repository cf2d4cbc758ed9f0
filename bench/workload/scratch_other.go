//go:build !linux

package main

import "errors"

// scratchMount is Linux's: the benchmark runs only there.
func scratchMount(string) (string, func(), error) {
	return "", nil, errors.New("bench/workload runs on Linux only")
}
