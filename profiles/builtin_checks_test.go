package profiles

import (
	"reflect"
	"testing"
)

// TestDecodedBuiltinsValid checks what lets a launch run only learningChecks on a built-in
// profile decoded when agentrun was built: every such profile passes every check, no check
// changes the profile, and the learning checks alone learn what all of them learn (so the
// others learn nothing the merge reads).
func TestDecodedBuiltinsValid(t *testing.T) {
	if len(decodedBuiltins) == 0 {
		t.Fatal("no decoded built-in profile")
	}
	for name, d := range decodedBuiltins {
		f := d.file()
		e := &errs{file: name}
		validateFile(f, e)
		if err := e.list.Err(); err != nil {
			t.Errorf("built-in profile %s fails validation: %v", name, err)
			continue
		}
		all := f.checked
		f.checked = nil
		if !reflect.DeepEqual(f, d.file()) {
			t.Errorf("built-in profile %s: validation changed the profile", name)
		}
		e = &errs{file: name}
		runChecks(f, e, learningChecks)
		if err := e.list.Err(); err != nil {
			t.Errorf("built-in profile %s fails the learning checks: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(all, f.checked) {
			t.Errorf("built-in profile %s: the learning checks alone learn otherwise than all checks", name)
		}
	}
}
