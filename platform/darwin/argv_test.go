package darwin

import (
	"reflect"
	"strings"
	"testing"
)

func TestSandboxArgv(t *testing.T) {
	got, err := sandboxArgv("/run/p.sb", []Param{{"TAG", "agentrun-1"}, {"WRITE_ROOT_0", "/Users/a b/=x"}}, "/usr/bin/env", []string{"-f", "--", "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/bin/sandbox-exec", "-f", "/run/p.sb", "-D", "TAG=agentrun-1", "-D", "WRITE_ROOT_0=/Users/a b/=x", "--", "/usr/bin/env", "-f", "--", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestSandboxArgvRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		params []Param
		path   string
		want   string
	}{
		{"relative program", "/p.sb", nil, "node", "absolute program path"},
		{"no profile", "", nil, "/bin/sh", "profile file"},
		{"name with =", "/p.sb", []Param{{"A=B", "x"}}, "/bin/sh", `"A=B" is not a name`},
		{"empty name", "/p.sb", []Param{{"", "x"}}, "/bin/sh", "is not a name"},
		{"twice", "/p.sb", []Param{{"A", "x"}, {"A", "y"}}, "/bin/sh", "defined twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sandboxArgv(tc.file, tc.params, tc.path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
