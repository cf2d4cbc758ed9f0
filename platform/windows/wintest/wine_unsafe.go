//go:build windows

package wintest

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// WineVersion is wine's version ("8.0"), or "" on Windows itself and on other systems.
func WineVersion() string {
	if !UnderWine() {
		return ""
	}
	// const char *wine_get_version(void): a static string in wine's ntdll.
	r, _, _ := wineGetVersion.Call()
	if r == 0 {
		return ""
	}
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
}
