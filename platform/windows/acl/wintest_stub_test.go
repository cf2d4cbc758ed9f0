//go:build windows

package acl

import (
	"testing"

	"golang.org/x/sys/windows"
)

// wintest stands in for platform/windows/wintest until that package is on main: delete this
// file and import the package; the calls (wintest.RequireWindows(t)) stay as they are.
var wintest = struct{ RequireWindows func(testing.TB) }{
	RequireWindows: func(t testing.TB) {
		t.Helper()
		if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
			t.Skip("needs Windows itself (NTFS ACLs, userenv.dll): this is Wine")
		}
	},
}
