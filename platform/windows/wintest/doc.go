// Package wintest tells the Windows tests that need Windows itself apart from those that also
// run under wine: RequireWindows skips, saying why, on another OS or under wine.
//
// scripts/wine-test.sh runs the test binaries of platform/windows/... under Debian's wine64
// on the Linux CI. Wine runs Go's pure code faithfully (paths, command-line quoting, XML,
// the registry) but does not implement the Windows security model the backend relies on:
// AppContainer tokens, the access checks behind ACLs, Job Object limits. A test of those calls
// RequireWindows first, so under wine it is reported as skipped rather than passing for the
// wrong reason or failing on what wine lacks; it runs on GitHub's windows-latest runner
// (.github/workflows/windows.yml).
//
// Wine is detected the way Wine's own documentation describes: its ntdll.dll exports
// wine_get_version, Windows' does not.
package wintest
