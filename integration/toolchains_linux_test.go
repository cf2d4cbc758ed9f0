package integration

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolchains runs the everyday work of a coding agent under the built-in profiles, as root
// and as an unprivileged user: git commits, an npm install from a local tarball, a Go build
// and test, a Python venv with a local wheel. The hardening must never cost these.
func TestToolchains(t *testing.T) {
	for _, unprivileged := range []bool{false, true} {
		name := "root"
		if unprivileged {
			name = "user"
		}
		t.Run(name, func(t *testing.T) { testToolchains(t, unprivileged) })
	}
}

func testToolchains(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	goroot := goRoot()
	// A user who has used these tools before has their caches; the profiles make them
	// writable only when they exist.
	for _, d := range []string{".cache/go-build", "go/pkg/mod", ".cache/pip", ".npm"} {
		mkdirOwned(t, r, filepath.Join(r.home, d))
	}
	writeOwned(t, r, filepath.Join(r.ws, "hello/go.mod"), "module example.com/hello\n\ngo 1.21\n")
	writeOwned(t, r, filepath.Join(r.ws, "hello/main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n")
	writeOwned(t, r, filepath.Join(r.ws, "hello/main_test.go"), "package main\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {}\n")
	writeOwned(t, r, filepath.Join(r.ws, "leftpad/package.json"), `{"name": "leftpad-local", "version": "1.0.0", "main": "index.js"}`)
	writeOwned(t, r, filepath.Join(r.ws, "leftpad/index.js"), "module.exports = (s, n) => s.padStart(n);\n")
	writeWheel(t, r, filepath.Join(r.ws, "greet-0.1-py3-none-any.whl"))
	writeOwned(t, r, filepath.Join(r.home, "go-agent.yaml"), "name: go-agent\nextends: [base, go, git]\n")

	cases := []struct {
		name, profile, script, want string
		needs                       string // a program the case needs on the host
	}{
		{name: "git", profile: "claude", want: "3",
			script: "git checkout -q -b topic && echo more >> README.md && git add README.md && git -c user.name=a -c user.email=a@example.com commit -q -m more && " +
				"echo stash >> README.md && git stash -q && git stash pop -q && git -c user.name=a -c user.email=a@example.com commit -qam again && git log --oneline | wc -l"},
		{name: "npm install from a tarball", profile: "claude", needs: "npm", want: "   x",
			script: "cd leftpad && npm pack --silent >/dev/null && cd .. && mkdir app && cd app && echo '{}' > package.json && " +
				"npm install --offline --no-audit --no-fund ../leftpad/leftpad-local-1.0.0.tgz >/dev/null && node -e 'console.log(require(\"leftpad-local\")(\"x\", 4))'"},
		// The built-in go fragment as an agent profile would extend it (ci does too, with
		// limits that an unprivileged user cannot have on this host).
		{name: "go run, test and build", profile: "go-agent.yaml", needs: filepath.Join(goroot, "bin/go"), want: "hello from go",
			script: "cd hello && export GOTOOLCHAIN=local && " + goroot + "/bin/go run . && " + goroot + "/bin/go test ./... && " + goroot + "/bin/go build -o hello . && ./hello"},
		{name: "python venv and a local wheel", profile: "aider", needs: "python3", want: "hello from a wheel",
			script: "python3 -m venv .venv && .venv/bin/pip install -q --no-index --disable-pip-version-check ./greet-0.1-py3-none-any.whl && .venv/bin/python -c 'import greet; greet.hello()'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs != "" {
				if _, err := exec.LookPath(tc.needs); err != nil {
					t.Skipf("%s is not installed (scripts/test.sh installs it)", tc.needs)
				}
			}
			res := r.run(t, "--profile", escapeProfile(r, tc.profile), "--network", "none", "--", "sh", "-c", tc.script)
			if res.code != 0 || !strings.Contains(res.stdout, tc.want) {
				t.Errorf("want exit 0 and %q, got %s", tc.want, res)
			}
		})
	}
}

// writeWheel writes a minimal pure-Python wheel holding module greet.
func writeWheel(t *testing.T, r *runner, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	files := []struct{ name, body string }{
		{"greet.py", "def hello():\n    print('hello from a wheel')\n"},
		{"greet-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: greet\nVersion: 0.1\n"},
		{"greet-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: agentrun-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{"greet-0.1.dist-info/RECORD", "greet.py,,\ngreet-0.1.dist-info/METADATA,,\ngreet-0.1.dist-info/WHEEL,,\ngreet-0.1.dist-info/RECORD,,\n"},
	}
	for _, file := range files {
		w, err := z.Create(file.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(file.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	chownToRunner(t, r, path)
}

// goRoot is the GOROOT of the go command on PATH (the one that builds these tests), or "".
func goRoot() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
