//go:build windows

package appcontainer

import (
	"testing"

	"golang.org/x/sys/windows"
)

// wintest stands in for package platform/windows/wintest until that is on main: delete this
// file and import the package in appcontainer_windows_test.go.
var wintest = struct{ RequireWindows func(testing.TB) }{requireWindows}

func requireWindows(t testing.TB) {
	t.Helper()
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		t.Skip("under wine, which has no AppContainers, Job Object limits or ConPTY: this test needs Windows itself")
	}
}
