package wintest

import "golang.org/x/sys/windows"

var wineGetVersion = windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")

// UnderWine reports whether this process runs under wine rather than Windows: wine's
// ntdll.dll exports wine_get_version, Windows' does not.
func UnderWine() bool { return wineGetVersion.Find() == nil }
