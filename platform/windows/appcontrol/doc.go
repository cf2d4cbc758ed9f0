// Package appcontrol compiles a profile's exec.allow rules, and the programs its runs
// executed, to Windows application-control policies an administrator deploys: an AppLocker
// policy (AppLockerPolicy XML) and an App Control for Business (WDAC) policy (SiPolicy XML),
// both in audit mode. They apply to a user or the whole machine, not to the agent's process
// tree. The package is pure Go and builds on every GOOS.
package appcontrol
