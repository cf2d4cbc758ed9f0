package darwin

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// workflows are the CI workflows of the platforms the Linux CI cannot run, from this
// package's directory: the file, its job, the runner, and how many commands it must run.
var workflows = []struct {
	file, job, runsOn string
	minRuns           int
}{
	{"../../.github/workflows/macos.yml", "darwin", "macos-latest", 5},
	{"../../.github/workflows/windows.yml", "windows", "windows-latest", 3},
}

type workflow struct {
	Jobs map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestWorkflow checks on Linux what the macOS and Windows workflows run: each parses, runs on
// its platform with the Go of go.mod, and each run: step's go command names packages that
// exist and -run patterns that select tests that exist in them (built for any OS).
func TestWorkflow(t *testing.T) {
	for _, w := range workflows {
		t.Run(filepath.Base(w.file), func(t *testing.T) { checkWorkflow(t, w.file, w.job, w.runsOn, w.minRuns) })
	}
}

func checkWorkflow(t *testing.T, file, jobName, runsOn string, minRuns int) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("%s does not parse: %v", file, err)
	}
	job, ok := wf.Jobs[jobName]
	if !ok || job.RunsOn != runsOn {
		t.Fatalf("no %s job on %s: %+v", jobName, runsOn, wf.Jobs)
	}
	runs := 0
	for _, s := range job.Steps {
		if s.Uses != "" {
			if f := s.With["go-version-file"]; f != "" {
				if _, err := os.Stat(filepath.Join("../..", f)); err != nil {
					t.Errorf("%s: %v", s.Uses, err)
				}
			}
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(s.Run), "\n") {
			runs++
			checkGoCommand(t, shellWords(line))
		}
	}
	if runs < minRuns {
		t.Errorf("only %d commands, want at least %d", runs, minRuns)
	}
}

// checkGoCommand checks one `go build|vet|test|run` command line of the workflow.
func checkGoCommand(t *testing.T, args []string) {
	t.Helper()
	if len(args) < 2 || args[0] != "go" {
		t.Errorf("%q: only go commands are checked here; add a check for this one", args)
		return
	}
	var pattern string
	var pkgs []string
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-run" && i+1 < len(args):
			pattern = args[i+1]
			i++
		case strings.HasPrefix(a, "./"):
			pkgs = append(pkgs, a)
		}
	}
	if len(pkgs) == 0 {
		t.Errorf("%q names no package", args)
	}
	for _, p := range pkgs {
		dir := filepath.Join("../..", strings.TrimSuffix(p, "/..."))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Errorf("%q: no package directory %s", args, dir)
			continue
		}
		if pattern == "" {
			continue
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			t.Errorf("%q: -run %q: %v", args, pattern, err)
			continue
		}
		tests := testNames(t, dir)
		for _, alt := range strings.Split(pattern, "|") {
			found := false
			for _, name := range tests {
				if m, _ := regexp.MatchString(alt, name); m && re.MatchString(name) {
					found = true
				}
			}
			if !found {
				t.Errorf("%q: -run %q: no test in %s matches %q", args, pattern, dir, alt)
			}
		}
	}
}

var testFuncRe = regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)

// testNames are the test functions of the package in dir, in files for every OS.
func testNames(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range testFuncRe.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// shellWords splits a command line as sh would for the plain words and single quotes the
// workflow uses.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}
