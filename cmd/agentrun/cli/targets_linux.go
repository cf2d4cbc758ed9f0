package cli

import "github.com/agentrun/agentrun/platform/linux"

// platformTargets are the compile targets of this host's backend.
func platformTargets() []target {
	return []target{
		{"seccomp", "the seccomp filter as an OCI runtime-spec profile (linux.seccomp)", linux.CompileSeccomp},
		{"apparmor", "the AppArmor profile the policy becomes (apparmor_parser syntax)", linux.CompileAppArmor},
		{"landlock", "the mounts and Landlock ruleset the policy becomes on this host, for people", linux.CompileLandlock},
	}
}
