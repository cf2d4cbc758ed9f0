// Package userdirs says whom agentrun acts for and where it keeps that user's files: the
// invoking user (under sudo, the user who ran sudo), their configuration and profiles
// ($XDG_CONFIG_HOME/agentrun), their event store ($XDG_STATE_HOME/agentrun) and the
// sandboxes' runtime state ($XDG_RUNTIME_DIR/agentrun and its fall-backs).
//
// Every XDG variable and the sudo case are resolved here and nowhere else. The rules:
//   - a relative XDG value is ignored, as the XDG base directory specification says;
//   - under sudo this environment's XDG variables are root's (or whatever sudo kept), not
//     the invoking user's, so they are ignored and that user's defaults under their home
//     are used;
//   - a home directory counts only when it is an absolute path.
//
// The package only computes paths. Whether a directory is safe to use (owned by the user,
// closed to others, on a local file system) is for the code that creates it to check: the
// platform's state root, the event store, the launcher's own-file rules. It imports nothing
// of agentrun's, so every other package may use it.
package userdirs
