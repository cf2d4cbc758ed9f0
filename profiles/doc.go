// Package profiles parses, merges, expands and validates agentrun profiles into a
// platform-neutral Policy that every backend compiles to its own mechanisms.
//
// A profile is a YAML file (see docs/profiles.md and schema/profile.schema.json). Decoding is
// strict: an unknown key, a wrong type or an invalid value is an *Error that names the file,
// line and column and says what to write instead. Resolve merges a profile with the profiles
// it extends and expands ~, $HOME, $WORKSPACE, $TMPDIR and $XDG_* against an Env.
//
// The package does no confinement itself and imports nothing OS-specific.
package profiles
