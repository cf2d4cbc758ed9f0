package benchkit

import (
	"strings"
	"testing"
)

// A subject succeeds only with the exit status it names: a search that finds nothing exits 1,
// and an agentrun that failed to confine (125) or a tool that hit an error must not pass.
func TestOnceWantsTheSubjectsStatus(t *testing.T) {
	for _, c := range []struct {
		argv   []string
		status int
		ok     bool
	}{
		{[]string{"true"}, 0, true},
		{[]string{"false"}, 1, true},
		{[]string{"false"}, 0, false},
		{[]string{"true"}, 1, false},
		{[]string{"sh", "-c", "exit 2"}, 1, false},
		{[]string{"sh", "-c", "kill -9 $$"}, 0, false},
	} {
		s := &Subject{Name: strings.Join(c.argv, " "), Argv: c.argv, Status: c.status}
		err := s.once(t.TempDir(), true)
		if (err == nil) != c.ok {
			t.Errorf("%s with Status %d: error %v, want ok=%v", s.Name, c.status, err, c.ok)
		}
		if c.ok != (len(s.Times) == 1) {
			t.Errorf("%s with Status %d: %d times recorded", s.Name, c.status, len(s.Times))
		}
	}
}
