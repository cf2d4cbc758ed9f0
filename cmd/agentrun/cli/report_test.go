package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestReportProfileProblems checks that a list of profile problems is printed under a heading,
// one per line, and that every other error — even one whose text has a newline — is not.
func TestReportProfileProblems(t *testing.T) {
	one := &profiles.Error{Pos: profiles.Pos{File: "a.yaml", Line: 2, Col: 3}, Field: "name", Msg: "bad"}
	two := &profiles.Error{Pos: profiles.Pos{File: "a.yaml", Line: 5, Col: 1}, Field: "mode", Msg: "worse"}
	for _, tc := range []struct {
		name    string
		err     error
		heading bool
	}{
		{"two problems", profiles.ErrorList{one, two}, true},
		{"two problems, wrapped", fmt.Errorf("loading profiles: %w", profiles.ErrorList{one, two}), true},
		{"one problem", profiles.ErrorList{one}, false},
		{"another error with a newline", errors.New("first line\nsecond line"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			report(&b, tc.err)
			if got := strings.HasPrefix(b.String(), "agentrun: invalid profile:\n"); got != tc.heading {
				t.Errorf("heading %v, want %v:\n%s", got, tc.heading, b.String())
			}
		})
	}
}
