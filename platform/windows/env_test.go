package windows

import (
	"slices"
	"testing"
)

func TestWithSystemEnv(t *testing.T) {
	host := []string{"SystemRoot=C:\\Windows", "Path=C:\\Windows\\system32", "AWS_SECRET_ACCESS_KEY=x", "windir=C:\\Windows",
		"USERPROFILE=C:\\Users\\ada", "=C:=C:\\src", "ComSpec=C:\\Windows\\system32\\cmd.exe"}
	env := []string{"PATH=C:\\tools", "TERM=xterm", "comspec=D:\\cmd.exe"}
	got := withSystemEnv(env, host)
	want := []string{"PATH=C:\\tools", "TERM=xterm", "comspec=D:\\cmd.exe", "SystemRoot=C:\\Windows", "windir=C:\\Windows", "USERPROFILE=C:\\Users\\ada"}
	if !slices.Equal(got, want) {
		t.Errorf("withSystemEnv = %q\nwant %q (the profile's own kept, secrets and drive entries not added)", got, want)
	}
}
