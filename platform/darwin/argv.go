package darwin

import (
	"fmt"
	"strings"
)

// SandboxExec is the sandbox's launcher, always by this absolute path: one found on PATH
// could be anything the user (or an agent before) put there.
const SandboxExec = "/usr/bin/sandbox-exec"

// Param is one -D NAME=VALUE definition a profile reads with (param "NAME").
type Param struct{ Name, Value string }

// sandboxArgv is sandbox-exec's argument vector (argv[0] included) that runs path with args
// under the profile in file: every parameter as its own -D argument, then -- so that no
// argument of the agent is read as an option of sandbox-exec.
func sandboxArgv(file string, params []Param, path string, args []string) ([]string, error) {
	if file == "" || !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("running under sandbox-exec: the profile file (%q) and an absolute program path (%q) are needed", file, path)
	}
	argv := []string{SandboxExec, "-f", file}
	seen := map[string]bool{}
	for _, p := range params {
		if !validParamName(p.Name) {
			return nil, fmt.Errorf("running under sandbox-exec: the profile parameter %q is not a name (letters, digits and _ only)", p.Name)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("running under sandbox-exec: the profile parameter %s is defined twice", p.Name)
		}
		seen[p.Name] = true
		argv = append(argv, "-D", p.Name+"="+p.Value)
	}
	argv = append(argv, "--", path)
	return append(argv, args...), nil
}

// validParamName reports whether name can follow -D: sandbox-exec splits NAME=VALUE at the
// first '=', so a name may not hold one; agentrun's names are upper-case identifiers.
func validParamName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
