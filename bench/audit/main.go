// Command audit measures what recording costs on file-heavy work: `git status` in a
// repository of 50,000 files and `node` loading 2,000 modules, each run unconfined, under
// agentrun in enforce mode, in audit mode, and in audit mode with --trace, interleaved in one
// run. It reports medians and ratios to the unconfined run, twice: the workload's own time
// (measured inside the sandbox, launch excluded) and the whole command (launch included).
//
//	go run ./bench/audit -n 10
//
// It runs as root from the repository root, builds agentrun with scripts/build.sh, and keeps
// its fixture in /var/tmp (the sandbox's /tmp is its own) until it ends.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/agentrun/agentrun/bench/internal/benchkit"
)

func main() {
	n := flag.Int("n", 10, "runs of each command")
	files := flag.Int("files", 50000, "files in the git repository")
	modules := flag.Int("modules", 2000, "modules node loads")
	flag.Parse()
	if err := run(*n, *files, *modules); err != nil {
		fmt.Fprintf(os.Stderr, "audit: %v\n", err)
		os.Exit(1)
	}
}

type subject struct {
	name        string
	prefix      []string // nil: unconfined
	inner, full []time.Duration
}

func run(n, files, modules int) error {
	dir, bin, err := benchkit.Fixture("/var/tmp", "agentrun-bench-audit-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ws := filepath.Join(dir, "ws")
	fmt.Fprintf(os.Stderr, "making a repository of %d files and %d node modules…\n", files, modules)
	if err := makeRepo(filepath.Join(ws, "repo"), files); err != nil {
		return err
	}
	if err := makeModules(filepath.Join(ws, "node"), modules); err != nil {
		return err
	}
	// The store goes to the fixture, not to the user's home.
	env := benchkit.Env(dir)
	base := []string{bin, "--profile", "base", "--workspace", ws}
	subjects := []*subject{
		{name: "unconfined"},
		{name: "enforce", prefix: append(append([]string(nil), base...), "--mode", "enforce", "--")},
		{name: "audit", prefix: append(append([]string(nil), base...), "--mode", "audit", "--")},
		{name: "audit --trace", prefix: append(append([]string(nil), base...), "--mode", "audit", "--trace", "--")},
	}
	workloads := []struct{ name, script string }{
		{"git status, " + strconv.Itoa(files) + " files", "cd repo && git status --porcelain >/dev/null"},
		{"node, " + strconv.Itoa(modules) + " modules", "node node/main.js >/dev/null"},
	}
	for _, w := range workloads {
		script := `s=$(date +%s%N); ` + w.script + `; e=$(date +%s%N); echo $((e-s))`
		for _, s := range subjects {
			s.inner, s.full = nil, nil
		}
		for i := 0; i < n+1; i++ { // the first round warms the caches and is not counted
			for _, s := range subjects {
				argv := append(append([]string(nil), s.prefix...), "sh", "-c", script)
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Dir, cmd.Env = ws, env
				start := time.Now()
				out, err := cmd.Output()
				took := time.Since(start)
				if err != nil {
					return fmt.Errorf("%s, %s: %v\n%s", w.name, s.name, err, out)
				}
				fields := strings.Fields(string(out))
				ns, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
				if err != nil {
					return fmt.Errorf("%s, %s: no time in %q", w.name, s.name, out)
				}
				if i > 0 {
					s.inner, s.full = append(s.inner, time.Duration(ns)), append(s.full, took)
				}
			}
		}
		fmt.Printf("\n%s (median of %d)\n", w.name, n)
		fmt.Printf("%-16s %12s %10s %14s %10s\n", "", "workload", "ratio", "with launch", "ratio")
		bi, bf := benchkit.Median(subjects[0].inner), benchkit.Median(subjects[0].full)
		for _, s := range subjects {
			mi, mf := benchkit.Median(s.inner), benchkit.Median(s.full)
			fmt.Printf("%-16s %12s %9.2fx %14s %9.2fx\n", s.name, mi.Round(100*time.Microsecond), float64(mi)/float64(bi), mf.Round(100*time.Microsecond), float64(mf)/float64(bf))
		}
	}
	return nil
}

// makeRepo creates a git repository of n files in directories of 100, all committed.
func makeRepo(dir string, n int) error {
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%03d", i/100), fmt.Sprintf("f%05d.txt", i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(p, []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "."},
		{"-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "files"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// makeModules writes n CommonJS modules in 20 directories and a main.js that requires them all.
func makeModules(dir string, n int) error {
	var main strings.Builder
	main.WriteString("let sum = 0;\n")
	for i := 0; i < n; i++ {
		rel := fmt.Sprintf("lib/p%02d/m%04d.js", i%20, i)
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("module.exports = %d;\n", i)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&main, "sum += require('./%s');\n", rel)
	}
	main.WriteString("console.log(sum);\n")
	return os.WriteFile(filepath.Join(dir, "main.js"), []byte(main.String()), 0o644)
}
