package profiles

import (
	"strings"
	"testing"
)

// TestExpandSetting: an env.set value that starts with ~ or a path variable is a path, as a
// rule's would be; any other value is literal; a broken one says what is wrong.
func TestExpandSetting(t *testing.T) {
	env := Env{Home: "/home/u", Workspace: "/home/u/proj", TmpDir: "/tmp"}
	for _, tc := range []struct{ in, want, err string }{
		{in: "~/.claude", want: "/home/u/.claude"},
		{in: "~", want: "/home/u"},
		{in: "$HOME/.x/", want: "/home/u/.x"},
		{in: "$WORKSPACE/build", want: "/home/u/proj/build"},
		{in: "1", want: "1"},
		{in: "$PATH:/x", want: "$PATH:/x"},
		{in: "~user/x", want: "~user/x"},
		{in: "https://example.com/~/x", want: "https://example.com/~/x"},
		{in: "~/a/*", err: "without *"},
		{in: "~/a/../b", err: "contains \"..\""},
		{in: "$XDG_CONFIG_HOME/go", err: "not set to an absolute path"},
	} {
		got, err := expandSetting(env, tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("expandSetting(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("expandSetting(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
