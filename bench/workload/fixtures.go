package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// writeFiles writes n files named by name(i), in directories of 100, each holding body(i).
func writeFiles(dir string, n int, name func(int) string, body func(int) string) error {
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, name(i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(p, []byte(body(i)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sourceLike is about a kilobyte of text shaped like source code, different in every file,
// that never contains the pattern searched for.
func sourceLike(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// file %d\npackage p%d\n\n", i, i/100)
	for j := 0; j < 12; j++ {
		fmt.Fprintf(&b, "func f%d_%d(x int) int { return x*%d + %d } // helper\n", i, j, j+1, i%97)
	}
	return b.String()
}

// makeTree writes the tree rg and grep search: n source-like files.
func makeTree(dir string, n int) error {
	return writeFiles(dir, n, func(i int) string { return fmt.Sprintf("d%03d/f%05d.go", i/100, i) }, sourceLike)
}

// makeRepo writes a git repository of n files and commits them all in one add and one commit.
// Its index compares only what confinement does not change (core.checkStat minimal): agentrun as
// root runs the agent as another uid, which the files' owners show through an idmapped mount,
// and git's default check of owners would make each run after an unconfined one (which rewrites
// the index with root's) read every file again — git's cost of the uid change, not the
// sandbox's, and not what a user running agentrun as themselves sees.
func makeRepo(dir string, n int) error {
	if err := writeFiles(dir, n, func(i int) string { return fmt.Sprintf("d%03d/f%05d.txt", i/100, i) },
		func(i int) string { return fmt.Sprintf("%d\n", i) }); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"config", "core.checkStat", "minimal"},
		{"add", "-A"},
		{"-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "--no-verify", "-m", "files"},
	} {
		if err := command(dir, nil, "git", args...); err != nil {
			return err
		}
	}
	return nil
}

// makeModules writes n CommonJS modules, m0000.js … exporting their number, in directories of
// 100; nodeScript requires them all.
func makeModules(dir string, n int) error {
	return writeFiles(dir, n, moduleName, func(i int) string { return fmt.Sprintf("module.exports = %d;\n", i) })
}

func moduleName(i int) string { return fmt.Sprintf("p%02d/m%04d.js", i/100, i) }

// nodeScript is the program `node -e` runs with the modules' directory as its argument: it
// requires every module and exits 3 unless their sum is right, so a module that failed to
// load cannot pass unseen.
func nodeScript(n int) string {
	return fmt.Sprintf(`const d = process.argv[1]; let s = 0;
for (let i = 0; i < %d; i++) s += require(d + "/p" + String(Math.floor(i / 100)).padStart(2, "0") + "/m" + String(i).padStart(4, "0") + ".js");
if (s !== %d) { console.error("sum " + s); process.exit(3); }`, n, n*(n-1)/2)
}

// makeGoModule writes a Go module of pkgs packages of files files each, and a command that
// imports them all, then builds it once so that GOCACHE (set by the caller in env) is warm.
func makeGoModule(dir string, pkgs, files int, env []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/workload\n\ngo 1.22\n"), 0o644); err != nil {
		return err
	}
	var imports, calls strings.Builder
	for p := 0; p < pkgs; p++ {
		pkg := fmt.Sprintf("pkg%d", p)
		for f := 0; f < files; f++ {
			var src strings.Builder
			fmt.Fprintf(&src, "package %s\n\nimport \"strings\"\n\n", pkg)
			for j := 0; j < 20; j++ {
				fmt.Fprintf(&src, "// F%d_%d joins and measures.\nfunc F%d_%d(s []string) int { return len(strings.Join(s, \"%d\")) + %d }\n\n", f, j, f, j, j, p)
			}
			if err := os.MkdirAll(filepath.Join(dir, pkg), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, pkg, fmt.Sprintf("f%d.go", f)), []byte(src.String()), 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(&imports, "\t\"example.com/workload/%s\"\n", pkg)
		fmt.Fprintf(&calls, "\tn += %s.F0_0(os.Args)\n", pkg)
	}
	main := fmt.Sprintf("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n%s)\n\nfunc main() {\n\tn := 0\n%s\tfmt.Println(n)\n}\n", imports.String(), calls.String())
	if err := os.MkdirAll(filepath.Join(dir, "cmd", "workload"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cmd", "workload", "main.go"), []byte(main), 0o644); err != nil {
		return err
	}
	return command(dir, env, "go", "build", "./...")
}

// command runs name with args in dir (env nil: this process's environment) and returns its
// output in the error when it fails.
func command(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return nil
}
