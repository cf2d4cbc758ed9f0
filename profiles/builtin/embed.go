// Package builtin holds agentrun's built-in profiles, embedded in the binary.
package builtin

import "embed"

// FS holds the built-in profiles as NAME.yaml files at its root.
//
//go:embed *.yaml match.index
var FS embed.FS
