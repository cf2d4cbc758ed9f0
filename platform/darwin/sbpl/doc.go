// Package sbpl compiles a policy to a Seatbelt profile in Apple's Sandbox Profile Language
// (SBPL), the input of /usr/bin/sandbox-exec (agentrun compile --target sbpl). It is pure
// and builds on every OS; the darwin launcher runs what it writes.
//
// What it maps:
//
//	default          (deny default (with message (param "TAG"))): every denial in the log
//	                 carries the run's tag; in audit mode (allow default (with report) …)
//	processes        fork, signals and process information within the sandbox only
//	filesystem.read  file-read* and file-map-executable
//	filesystem.write file-read* file-write*, and binding and connecting unix sockets beneath
//	filesystem.protect  readable; file-write* denied after the writes
//	filesystem.deny  file-read* file-write* file-map-executable process-exec* denied after
//	                 everything else; !(a|b) through (require-all … (require-not …))
//	exec.allow/deny  process-exec* (with file-read* and file-map-executable for allow)
//	sockets          network-outbound to (remote unix-socket …)
//	rename attack    file-write-unlink denied on every directory above a protected or
//	                 denied path
//	network          network-outbound only to agentrun's proxy ports on localhost; no
//	                 proxy port: no network; com.apple.dnssd.service denied (DNS goes through
//	                 the proxy)
//	always denied    container engines' sockets (Docker, OrbStack, colima, Rancher Desktop,
//	                 lima), launchd's ssh-agent socket, mDNSResponder; in audit mode too, as
//	                 are the deny rules for agentrun's own files
//
// Every path of the policy is a parameter (-D NAME=VALUE), never text: the text of a profile
// depends only on the policy's shape, and no path needs SBPL quoting. Paths under /tmp, /var
// and /etc are written under /private, where Seatbelt sees them. A pattern becomes an
// anchored POSIX regular expression passed as a parameter (regex.go says how).
//
// SBPL applies the last rule that matches an operation (the order sandbox-runtime's
// macos-sandbox-utils.ts documents and Gemini CLI's permissive profiles rely on: a later
// allow re-opens what an earlier deny closed). The policy's precedence — deny, then protect,
// then write, then read — is therefore written in the reverse order: reads, writes and execs
// first, protect and deny after them, agentrun's own denials last.
//
// What SBPL cannot express, and so this package does not:
//
//   - resources (memory, pids, cpu): Seatbelt has no limits; the launcher's to set.
//   - env and review: the launcher's.
//   - network names, ports and UDP: Seatbelt filters addresses only as localhost or *; the
//     proxy decides. A server the agent starts on the loopback cannot be reached from the
//     sandbox: Seatbelt cannot tell it from the host's own services there.
//   - a character class [...] inside a negation !(...): an error naming the rule.
//   - what the agent sees: there is no mount namespace, so a path no rule names is denied,
//     not absent, and every directory's metadata (not its contents) is readable.
package sbpl
