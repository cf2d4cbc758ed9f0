package cmdline

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestEnvBlock(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string // the block with NULs as "|"
	}{
		{"empty", nil, "|"},
		{"sorted case-insensitively", []string{"b=2", "A=1", "_x=3", "c=4"}, "A=1|b=2|c=4|_x=3||"},
		{"drive entries first", []string{"0=digit", "=D:=D:\\w", "Path=p", "=C:=C:\\"}, "=C:=C:\\|=D:=D:\\w|0=digit|Path=p||"},
		{"last of equal names wins", []string{"PATH=a", "x=1", "Path=b"}, "Path=b|x=1||"},
		{"empty value and '=' in value", []string{"A=", "B=x=y"}, "A=|B=x=y||"},
		{"non-ASCII upper-cased", []string{"é=1", "É2=2", "Z=3"}, "Z=3|é=1|É2=2||"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EnvBlock(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			want := utf16.Encode([]rune(strings.ReplaceAll(tc.want, "|", "\x00")))
			if !slices.Equal(got, want) {
				t.Errorf("EnvBlock(%q) = %q, want %q", tc.env, string(utf16.Decode(got)), tc.want)
			}
		})
	}
}

func TestEnvBlockGoldenBytes(t *testing.T) {
	got, err := EnvBlock([]string{"b=1", "A=é"})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{'A', '=', 0xE9, 0, 'b', '=', '1', 0, 0}
	if !slices.Equal(got, want) {
		t.Errorf("EnvBlock = %#v, want %#v", got, want)
	}
}

func TestEnvBlockErrors(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		{"NOVALUE", "no '='"},
		{"", "no '='"},
		{"=x", "empty name"},
		{"==x", "empty name"},
		{"=", "empty name"},
		{"A=b\x00c", "NUL"},
	} {
		_, err := EnvBlock([]string{"OK=1", tc.entry})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "entry") {
			t.Errorf("EnvBlock(%q): %v, want an error with %q", tc.entry, err, tc.want)
		}
	}
}
