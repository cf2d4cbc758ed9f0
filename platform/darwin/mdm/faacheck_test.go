package mdm

import (
	"testing"

	"howett.net/plist"
)

// checkFAA parses an FAA configuration back strictly: only the documented keys, the required
// ones present, each of its documented type; then into FAAConfig.
func checkFAA(t *testing.T, data []byte) FAAConfig {
	t.Helper()
	var raw map[string]any
	if _, err := plist.Unmarshal(data, &raw); err != nil {
		t.Fatalf("not a plist: %v", err)
	}
	checkDict(t, "", raw, faaSchema)
	var cfg FAAConfig
	if _, err := plist.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	for name, it := range cfg.WatchItems {
		if !ruleNameRE().MatchString(name) {
			t.Errorf("rule name %q is not one Santa accepts", name)
		}
		if len(it.Paths) == 0 {
			t.Errorf("%s: no paths", name)
		}
		for _, p := range it.Paths {
			if p.Path == "" || p.Path[0] != '/' {
				t.Errorf("%s: path %q is not absolute", name, p.Path)
			}
			for _, link := range privateLinks {
				if within(p.Path, link) {
					t.Errorf("%s: path %s is under the symbolic link %s: Santa watches resolved paths only", name, p.Path, link)
				}
			}
		}
	}
	return cfg
}
