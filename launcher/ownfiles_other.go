//go:build !linux

package launcher

// mkdirOwned has nothing to hide the directories from without a sandbox backend.
func mkdirOwned(string, int, int) error { return nil }
