package profiles_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
)

// FuzzProfile feeds arbitrary bytes to the parser and, when they parse, to the merger and the
// YAML writer. Nothing may panic, every error must carry a position, and a resolved profile
// must parse and resolve again. The seed corpus is the built-in profiles, testdata/ and
// testdata/fuzz/FuzzProfile.
func FuzzProfile(f *testing.F) {
	builtins, _ := fs.Glob(builtin.FS, "*.yaml")
	for _, n := range builtins {
		data, _ := fs.ReadFile(builtin.FS, n)
		f.Add(data)
	}
	for _, dir := range []string{"valid", "invalid", "userprofiles"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, n := range files {
			data, _ := os.ReadFile(n)
			f.Add(data)
		}
	}
	cat, err := profiles.Load(builtin.FS, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := profiles.Parse("fuzz.yaml", data)
		if err != nil {
			checkPositions(t, err)
			return
		}
		p, err := cat.Resolve(&profiles.Entry{File: file, Layer: profiles.LayerFile}, testEnv)
		if err != nil {
			checkPositions(t, err)
			return
		}
		out, err := p.YAML()
		if err != nil {
			t.Fatalf("writing the resolved profile: %v", err)
		}
		again, err := profiles.Parse("resolved.yaml", out)
		if err != nil {
			t.Fatalf("the resolved profile does not parse: %v\n%s", err, out)
		}
		if _, err := cat.Resolve(&profiles.Entry{File: again, Layer: profiles.LayerFile}, testEnv); err != nil {
			t.Fatalf("the resolved profile does not resolve: %v\n%s", err, out)
		}
	})
}

func checkPositions(t *testing.T, err error) {
	t.Helper()
	list, ok := err.(profiles.ErrorList)
	if !ok {
		t.Fatalf("error is %T, not an ErrorList: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatal("empty ErrorList returned as an error")
	}
	for _, e := range list {
		if e.Pos.File == "" || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Msg == "" {
			t.Fatalf("error without a position or message: %#v", e)
		}
	}
}
