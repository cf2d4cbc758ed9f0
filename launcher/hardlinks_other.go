//go:build !linux

package launcher

import "github.com/agentrun/agentrun/profiles"

type linkedFile struct {
	Path  string
	Links uint64
}

func (l linkedFile) String() string { return l.Path }

func linkedDenied(*profiles.Policy) []linkedFile { return nil }
