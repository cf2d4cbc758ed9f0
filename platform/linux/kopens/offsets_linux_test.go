//go:build linux && amd64

package kopens

import "testing"

func TestOffsets(t *testing.T) {
	o, err := loadOffsets()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", o)
}
