package linux

import (
	"bytes"
	"testing"

	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
)

// TestEarlyFilter checks that the filter compiled while the run is planned is used only for
// the spec it was compiled for: another spec gets its own program.
func TestEarlyFilter(t *testing.T) {
	writes := seccompfilter.Spec{Report: seccompfilter.ReportWrites}
	all := seccompfilter.Spec{Report: seccompfilter.ReportAll}
	e := compileEarly(writes)
	for _, spec := range []seccompfilter.Spec{writes, all} {
		got, gerr := e.compile(spec)
		want, werr := seccompfilter.Compile(spec)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%+v: %v, want %v", spec, gerr, werr)
		}
		if werr != nil {
			continue // built without libseccomp: both fail alike
		}
		if !bytes.Equal(got.Raw, want.Raw) || got.Listener != want.Listener {
			t.Errorf("%+v: the early filter's program is not the spec's", spec)
		}
	}
	var none *earlyFilter
	if _, err := none.compile(writes); err != nil && err != seccompfilter.ErrNotBuilt {
		t.Errorf("without an early filter: %v", err)
	}
}
