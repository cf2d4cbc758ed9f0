// Package windows is agentrun's Windows backend: each agent runs in an AppContainer (one per
// profile, package appcontainer) whose SID is granted the policy's read and write roots with
// ACEs that are journaled and taken away at the run's exit, or at the next start after a crash
// (package acl); a Job Object holds the limits and kills the tree with the run; network goes
// only to agentrun's proxy on the loopback (netfilter/proxy), which an AppContainer without
// network capabilities can reach only once `agentrun setup` has exempted it from loopback
// isolation. The plan (policy → grants, limits) and what the host offers are pure Go, built
// and tested on every OS; only the system calls are in _windows.go files.
//
// The other Windows mechanisms are compile targets: a Windows Sandbox configuration
// (platform/windows/wsb) and AppLocker / App Control policies (platform/windows/appcontrol).
package windows
