package launcher

import (
	"strings"
	"testing"
)

func TestHoldBackKeys(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string // the merged document, compact
		changed        []string
	}{
		{"permission change goes through", `{"permissions":{"allow":["Bash(ls)"]}}`, `{"permissions":{"allow":["Bash(ls)","Bash(npm test)"]}}`,
			`{"permissions":{"allow":["Bash(ls)","Bash(npmtest)"]}}`, nil},
		{"new hook held back, other change kept", `{"permissions":{}}`, `{"permissions":{"allow":["x"]},"hooks":{"Stop":[{"hooks":[{"type":"command","command":"touch /tmp/p"}]}]}}`,
			`{"permissions":{"allow":["x"]}}`, []string{"hooks"}},
		{"changed statusLine put back", `{"statusLine":{"command":"a"},"theme":"dark"}`, `{"statusLine":{"command":"b"},"theme":"light"}`,
			`{"statusLine":{"command":"a"},"theme":"light"}`, []string{"statusLine"}},
		{"nested mcpServers", `{"projects":{"/w":{"mcpServers":{}}},"numStartups":1}`, `{"numStartups":2,"projects":{"/w":{"mcpServers":{"x":{"command":"sh"}}}}}`,
			`{"numStartups":2,"projects":{"/w":{"mcpServers":{}}}}`, []string{"projects./w.mcpServers"}},
		{"removed hook stays removed", `{"hooks":{"Stop":[]},"a":1}`, `{"a":1}`, `{"a":1}`, nil},
		{"new file", ``, `{"apiKeyHelper":"x","env":{"A":"b"},"ok":true}`, `{"ok":true}`, []string{"apiKeyHelper", "env"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var oldDoc any = &jsonObject{vals: map[string]any{}}
			if tc.old != "" {
				d, err := parseJSONDoc([]byte(tc.old))
				if err != nil {
					t.Fatal(err)
				}
				oldDoc = d
			}
			newDoc, err := parseJSONDoc([]byte(tc.new))
			if err != nil {
				t.Fatal(err)
			}
			merged, changes := holdBackKeys(oldDoc, newDoc)
			out, err := encodeJSONDoc(merged)
			if err != nil {
				t.Fatal(err)
			}
			compact := strings.Join(strings.Fields(string(out)), "")
			if compact != tc.want {
				t.Errorf("merged = %s, want %s", compact, tc.want)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.Path)
			}
			if strings.Join(got, ",") != strings.Join(tc.changed, ",") {
				t.Errorf("changes = %q, want %q", got, tc.changed)
			}
		})
	}
}

func TestParseJSONDocKeepsOrderAndNumbers(t *testing.T) {
	src := `{"z":1.50,"a":{"y":[1,2],"b":null},"z":2}`
	d, err := parseJSONDoc([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := encodeJSONDoc(d)
	if got := strings.Join(strings.Fields(string(out)), ""); got != `{"z":2,"a":{"y":[1,2],"b":null}}` {
		t.Errorf("got %s", got)
	}
	for _, bad := range []string{`{"a":1} {}`, `{"a":`, `[`} {
		if _, err := parseJSONDoc([]byte(bad)); err == nil {
			t.Errorf("parseJSONDoc(%q) succeeded", bad)
		}
	}
}
