// Package darwin runs agents on macOS under /usr/bin/sandbox-exec with an SBPL profile
// compiled from the policy, relays the terminal and signals as on Linux, turns the sandbox's
// violation reports in the unified log into events, and says what the host offers (doctor).
//
// The pure parts (the sandbox-exec command line, exit statuses, the unified-log parser, the
// doctor's parsers) have no build tag and are tested on every OS; what needs macOS lives in
// _darwin.go files.
package darwin
