//go:build windows

package acl

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

var procDeriveSID = windows.NewLazySystemDLL("userenv.dll").NewProc("DeriveAppContainerSidFromAppContainerName")

// containerSID is the SID of the AppContainer named name (no profile needs to exist).
func containerSID(t *testing.T, name string) string {
	t.Helper()
	if err := procDeriveSID.Find(); err != nil {
		t.Fatalf("userenv.dll: %v", err)
	}
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	var sid *windows.SID
	hr, _, _ := procDeriveSID.Call(uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&sid)))
	if hr != 0 {
		t.Fatalf("DeriveAppContainerSidFromAppContainerName(%s): HRESULT %#x", name, hr)
	}
	defer windows.FreeSid(sid)
	return sid.String()
}
