// Package integration holds agentrun's end-to-end tests: the command line as a user types it,
// in testscript files under testdata/script, and (with the launchers) real agents run under
// real confinement.
package integration
