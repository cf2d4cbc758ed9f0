// Package schema holds the JSON Schema (draft 2020-12) of the agentrun profile format, so
// editors can complete and check profiles. The VS Code YAML extension picks it up from a
// first line such as
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/agentrun/agentrun/main/profiles/schema/profile.schema.json
//
// (a local path to profile.schema.json works too).
//
// The schema is written by hand; its tests check that its keys are exactly the yaml tags of
// profiles.File and that every built-in profile validates against it. It is a subset of the
// checks the profiles package makes: a profile the schema accepts can still be rejected by
// agentrun (contradictory paths, public-suffix or cloud-metadata hosts, extends cycles), but a
// profile agentrun accepts is never rejected by the schema.
package schema

import _ "embed"

// JSON is the profile schema, profile.schema.json, as UTF-8 JSON text.
//
//go:embed profile.schema.json
var JSON []byte
