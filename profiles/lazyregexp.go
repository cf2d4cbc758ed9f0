package profiles

import (
	"regexp"
	"sync"
)

// LazyRegexp compiles expr the first time it is used: compiling every expression when the
// package loads would cost each start of agentrun, the sandbox's stage included, for
// expressions most runs never use.
func LazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
