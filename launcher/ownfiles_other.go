//go:build !linux

package launcher

func runtimeDirs() []string { return nil }

// mkdirOwned has nothing to hide the directories from without a sandbox backend.
func mkdirOwned(string, int, int) error { return nil }
