package profiles

import (
	"regexp"
	"testing"
)

// TestValidNamesAgreeWithTheirPatterns checks the hand-written name checks against the
// patterns the documentation gives, on every string of up to three characters over an
// alphabet that has each class of character, and on the length limits.
func TestValidNamesAgreeWithTheirPatterns(t *testing.T) {
	name := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	env := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	alphabet := []string{"a", "z", "A", "Z", "0", "9", ".", "_", "-", "/", " ", "é"}
	var strs []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		strs = append(strs, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	for _, n := range []int{63, 64, 65} {
		long := make([]byte, n)
		for i := range long {
			long[i] = 'a'
		}
		strs = append(strs, string(long))
	}
	for _, s := range strs {
		if got, want := validName(s), name.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, want %v", s, got, want)
		}
		if got, want := validEnvName(s), env.MatchString(s); got != want {
			t.Errorf("validEnvName(%q) = %v, want %v", s, got, want)
		}
	}
}
