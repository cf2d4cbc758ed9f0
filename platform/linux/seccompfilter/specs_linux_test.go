package seccompfilter

import (
	"reflect"
	"testing"
)

// TestSpecsAreEverySpec keeps Specs, and so the programs compiled when agentrun is built,
// complete: a field added to Spec, or a Report added, must be added to Specs too.
func TestSpecsAreEverySpec(t *testing.T) {
	typ := reflect.TypeOf(Spec{})
	var fields []string
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name)
	}
	if !reflect.DeepEqual(fields, []string{"NoInet", "Report"}) {
		t.Fatalf("Spec has the fields %v: Specs enumerates NoInet and Report only; extend it (and regenerate the programs: TestPrograms -update)", fields)
	}
	if ReportAll != 3 || ReportNothing != 0 {
		t.Fatalf("the Reports are no longer 0 to 3: extend Specs")
	}
	seen := map[Spec]bool{}
	for _, s := range Specs() {
		seen[s] = true
	}
	if len(seen) != 8 {
		t.Fatalf("Specs has %d distinct specs, want 2 × 4", len(seen))
	}
}
