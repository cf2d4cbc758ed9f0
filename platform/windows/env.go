package windows

import "strings"

// systemVars are the variables Windows programs expect to find, whatever the profile passes
// (profiles name Unix variables): the system's directories, which the C runtime, Winsock
// (SystemRoot), cmd.exe (ComSpec, PATHEXT) and Node.js (USERPROFILE, APPDATA) read, and the
// processor's description. None holds a secret; the user's own folders they name stay closed
// to the container except where the profile grants them.
var systemVars = []string{
	"SystemRoot", "SystemDrive", "windir", "ComSpec", "PATHEXT", "OS",
	"PROCESSOR_ARCHITECTURE", "PROCESSOR_IDENTIFIER", "PROCESSOR_LEVEL", "PROCESSOR_REVISION", "NUMBER_OF_PROCESSORS",
	"ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "CommonProgramFiles", "CommonProgramFiles(x86)", "CommonProgramW6432",
	"ProgramData", "ALLUSERSPROFILE", "PUBLIC", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA", "LOCALAPPDATA", "USERNAME",
}

// withSystemEnv adds to env each of systemVars that host has and env lacks (names compared
// without regard to case, as Windows does).
func withSystemEnv(env, host []string) []string {
	have := map[string]bool{}
	for _, kv := range env {
		n, _, _ := strings.Cut(kv, "=")
		have[strings.ToUpper(n)] = true
	}
	want := map[string]bool{}
	for _, n := range systemVars {
		want[strings.ToUpper(n)] = true
	}
	out := env
	for _, kv := range host {
		n, _, ok := strings.Cut(kv, "=")
		if k := strings.ToUpper(n); ok && n != "" && want[k] && !have[k] {
			out = append(out, kv)
			have[k] = true
		}
	}
	return out
}
