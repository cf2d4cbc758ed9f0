package profiles_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testEnv is a fixed expansion environment, so results do not depend on the machine.
var testEnv = profilestest.Env

// testCatalog is the built-in profiles plus testdata/userprofiles.
func testCatalog(t testing.TB) *profiles.Catalog {
	t.Helper()
	c, err := profiles.Load(builtin.FS, filepath.Join("testdata", "userprofiles"))
	if err != nil {
		t.Fatalf("loading the test catalog: %v", err)
	}
	return c
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	got = slashTestdata(got)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./profiles -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./profiles -update and review the diff)\n got: %s\nwant: %s", path, got, want)
	}
}

// slashTestdata writes the test's own file names (testdata\invalid\x.yaml on Windows, as a
// user there reads them in an error) with /, as the golden files have them on every OS.
func slashTestdata(s string) string {
	if filepath.Separator == '/' {
		return s
	}
	for _, dir := range []string{"invalid", "valid", "userprofiles"} {
		s = strings.ReplaceAll(s, filepath.Join("testdata", dir)+string(filepath.Separator), "testdata/"+dir+"/")
	}
	return s
}

// TestInvalidProfiles checks that every profile in testdata/invalid is rejected with exactly
// the error in its .golden file: the position and the message a user would see.
func TestInvalidProfiles(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Errorf("only %d invalid profiles in testdata/invalid; the corpus must keep at least 40", len(cases))
	}
	cat := testCatalog(t)
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			e, err := profiles.ReadFile(file)
			if err == nil {
				_, err = cat.Resolve(e, testEnv)
			}
			if err == nil {
				t.Fatalf("%s was accepted; every file in testdata/invalid must be rejected", file)
			}
			var list profiles.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, not profiles.ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File == "" || e.Pos.Line == 0 || e.Pos.Col == 0 {
					t.Errorf("error without file:line:column: %v", e)
				}
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", err.Error()+"\n")
		})
	}
}

// TestValidProfiles checks that every profile in testdata/valid is accepted, and that its
// resolved form matches its .golden file.
func TestValidProfiles(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cat := testCatalog(t)
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			e, err := profiles.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := cat.Resolve(e, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.YAML()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", string(out))
		})
	}
}
