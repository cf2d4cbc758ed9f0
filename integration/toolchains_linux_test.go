package integration

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestToolchains runs the everyday work of a coding agent under each agent's built-in profile,
// as root and as an unprivileged user: git init, add, commit and log, and a commit, checkout
// and stash in the workspace's own repository; an npm install from a local tarball; a Python
// venv with a local wheel; go test and go build; cargo build --offline of a crate without
// dependencies (Debian's cargo). Each profile does it in enforce mode, then again in audit
// mode, where nothing may be a would-deny event but the explained exceptions of TestAgents.
// The hardening must never cost this work.
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
	steps := toolchainWorkloads(t, r)
	var script strings.Builder
	var wants []string
	for _, st := range steps {
		if _, err := exec.LookPath(st.needs); err != nil {
			// Debian packages: scripts/test.sh installs them.
			t.Logf("%s left out: %s is not installed (scripts/test.sh installs it)", st.name, st.needs)
			continue
		}
		fmt.Fprintf(&script, "mkdir -p \"$WS/run-$RUN/%s\" && cd \"$WS/run-$RUN/%s\" && { %s; } || echo \"%s failed\"\n", st.name, st.name, st.script, st.name)
		wants = append(wants, st.want)
	}

	// The three agents issue 14 names as root and as a user; the other built-in agent
	// profiles, which extend the same fragments, as root only (CI's time is short).
	profiles := []string{"claude", "codex", "gemini"}
	if !unprivileged {
		profiles = append(profiles, "opencode", "aider", "ci")
	}
	for _, profile := range profiles {
		t.Run(profile, func(t *testing.T) {
			for _, mode := range []string{"enforce", "audit"} {
				evFile := eventsFile(t, r)
				args := append([]string{"--profile", profile}, runArgs(r, mode, evFile)...)
				res := r.run(t, append(args, "--", "sh", "-c", "WS=$PWD RUN="+profile+"-"+mode+"\n"+script.String())...)
				for _, want := range wants {
					if res.code != 0 || !strings.Contains(res.stdout, want) {
						t.Errorf("%s: want exit 0 and %q, got %s", mode, want, res)
					}
				}
				if mode == "audit" {
					if bad := unexplained(readEvents(t, evFile), profile, r); len(bad) > 0 {
						t.Errorf("audit mode: %d would-deny events:\n%s", len(bad), strings.Join(bad, "\n"))
					}
				}
			}
		})
	}
}

// toolchainWorkload is one piece of a coding agent's everyday work: a shell script run in a
// directory of its own, what it needs installed, and what it prints when it worked.
type toolchainWorkload struct {
	name, needs, script, want string
}

// toolchainWorkloads writes the workloads' inputs into r's fixture (a user's caches, a Go
// module, a crate, an npm tarball, a wheel) and returns the workloads: git, npm, python, go,
// cargo. The scripts expect $WS (the workspace) and $RUN (a name for this run).
func toolchainWorkloads(t *testing.T, r *runner) []toolchainWorkload {
	t.Helper()
	goroot := goRoot()
	// A user who has used these tools before has their caches; the profiles make them
	// writable only when they exist.
	for _, d := range []string{".cache/go-build", "go/pkg/mod", ".config/go/telemetry", ".cache/pip", ".npm", ".cargo/registry"} {
		mkdirOwned(t, r, filepath.Join(r.home, d))
	}
	writeOwned(t, r, filepath.Join(r.home, ".cargo/.package-cache"), "")
	writeOwned(t, r, filepath.Join(r.ws, "hello/go.mod"), "module example.com/hello\n\ngo 1.21\n")
	writeOwned(t, r, filepath.Join(r.ws, "hello/main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n")
	writeOwned(t, r, filepath.Join(r.ws, "hello/main_test.go"), "package main\n\nimport \"testing\"\n\nfunc TestHello(t *testing.T) {}\n")
	writeOwned(t, r, filepath.Join(r.ws, "crate/Cargo.toml"), "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
	writeOwned(t, r, filepath.Join(r.ws, "crate/src/main.rs"), "fn main() { println!(\"hello from cargo\"); }\n")
	writeTarball(t, r, filepath.Join(r.ws, "leftpad-local-1.0.0.tgz"), map[string]string{
		"package/package.json": `{"name": "leftpad-local", "version": "1.0.0", "main": "index.js"}`,
		"package/index.js":     "module.exports = (s, n) => s.padStart(n);\n",
	})
	writeWheel(t, r, filepath.Join(r.ws, "greet-0.1-py3-none-any.whl"))

	// Each step runs in a directory of its own per run, beside the others' inputs.
	return []toolchainWorkload{
		{name: "git", needs: "git", want: "git: 2 3",
			script: `git init -q repo && cd repo && echo a > a && git add a && git -c user.name=a -c user.email=a@example.com commit -qm one && ` +
				`echo b >> a && git -c user.name=a -c user.email=a@example.com commit -qam two && n=$(git log --oneline | wc -l) && cd "$WS" && ` +
				`git checkout -q -b "topic-$RUN" && echo "$RUN" >> README.md && git add README.md && git -c user.name=a -c user.email=a@example.com commit -q -m more && ` +
				`echo stash >> README.md && git stash -q && git stash pop -q && git -c user.name=a -c user.email=a@example.com commit -qam again && git checkout -q - && ` +
				`echo "git: $n $(git log --oneline "topic-$RUN" | wc -l)"`},
		{name: "npm", needs: "npm", want: "npm:    x",
			script: `mkdir app && cd app && echo '{}' > package.json && npm install --offline --no-audit --no-fund "$WS/leftpad-local-1.0.0.tgz" >/dev/null && ` +
				`echo "npm: $(node -e 'console.log(require("leftpad-local")("x", 4))')"`},
		// The venv without its own pip (ensurepip takes seconds): Debian's pip installs into it.
		{name: "python", needs: "pip3", want: "python: hello from a wheel",
			script: `python3 -m venv --system-site-packages --without-pip .venv && .venv/bin/python -m pip install -q --no-index --disable-pip-version-check "$WS/greet-0.1-py3-none-any.whl" && ` +
				`echo "python: $(.venv/bin/python -c 'import greet; greet.hello()')"`},
		{name: "go", needs: filepath.Join(goroot, "bin/go"), want: "go: hello from go",
			script: `cp -r "$WS/hello" . && cd hello && export GOTOOLCHAIN=local && ` + goroot + `/bin/go test ./... >/dev/null && ` + goroot + `/bin/go build -o hello . && echo "go: $(./hello)"`},
		{name: "cargo", needs: "cargo", want: "cargo: hello from cargo",
			script: `cp -r "$WS/crate" . && cd crate && cargo build --offline -q && echo "cargo: $(./target/debug/hello)"`},
	}
}

// writeTarball writes a gzipped tar of files, as npm pack makes.
func writeTarball(t *testing.T, r *runner, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	writeOwned(t, r, path, buf.String())
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
