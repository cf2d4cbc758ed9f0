// Package mdm compiles a policy to what a Mac's management tools deploy, as opposed to what
// agentrun applies itself at launch: a Santa File Access Authorization configuration that
// protects the policy's secrets from every process but those that own them, Santa rules for
// the agent's toolchain learned from exec events (santactl rule --import), and a Privacy
// Preferences Policy Control (TCC) configuration profile that denies the agent's terminal
// and runtime the privacy services the policy does not need.
//
// Everything here is portable Go: it builds and is tested on every GOOS. Paths are compiled
// for macOS homes (Env), not for the host that runs the compiler.
package mdm
