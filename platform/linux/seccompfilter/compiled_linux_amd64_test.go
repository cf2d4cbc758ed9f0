package seccompfilter

import (
	"bytes"
	"testing"
)

// TestCompileTakesOnlyItsSpec checks the table's index: every Spec gets its own program (no two
// the same), a Report outside Specs' — negative, past ReportAll, or with its upper bits set —
// is refused rather than read from another row, and the program is a copy the caller may
// change without changing the table.
func TestCompileTakesOnlyItsSpec(t *testing.T) {
	seen := map[string]Spec{}
	for _, s := range Specs() {
		p, err := Compile(s)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if o, dup := seen[string(p.Raw)]; dup {
			t.Errorf("%+v and %+v have the same program", s, o)
		}
		seen[string(p.Raw)] = s
		before := append([]byte(nil), p.Raw...)
		p.Raw[0] ^= 0xff
		again, _ := Compile(s)
		if !bytes.Equal(again.Raw, before) {
			t.Fatalf("%+v: changing a returned program changed the table", s)
		}
	}
	for _, r := range []Report{-1, ReportAll + 1, Report(1 << 32), Report(-1 << 62)} {
		if p, err := Compile(Spec{Report: r}); err == nil {
			t.Errorf("Report %d: a program of %d bytes, want an error", r, len(p.Raw))
		}
	}
}
