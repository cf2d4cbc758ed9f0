package launcher

import "strings"

// envKey is how Windows compares variable names: without regard to case (the host's Path is
// the profile's PATH).
func envKey(name string) string { return strings.ToUpper(name) }
