// Package apparmor compiles a policy to an AppArmor profile (pure, tested on every OS) and,
// on Linux, loads it for a run, follows the kernel's denials of it as events, and installs
// agentrun's own profile where AppArmor restricts user namespaces (agentrun setup).
package apparmor
