// Package launcher carries one run of an agent through its life: resolve the profile, plan
// the confinement, start the agent under it, relay its terminal and signals, report what was
// denied, and tear everything down.
package launcher
