// Command workload measures what confinement costs the file-heavy work coding agents do all
// day: `rg -q` and `grep -r -q` over a tree of source-like files, `git status` in a repository
// of 50,000 committed files, `node -e` requiring 2,000 modules, a warm `go build` of a
// module of a few packages, and the tree copied and removed again (writes). Each runs unconfined, under bubblewrap (every namespace, the host
// read-only, the fixture bound writable), and under agentrun in enforce and in audit mode
// with a profile that extends base with the git, node and go fragments and writes the
// fixture; all of them interleaved in one run, so that all see the same machine. It prints a
// markdown table of medians and ratios:
//
//	sudo go run ./bench/workload -n 10
//
// Launch time is reported apart: each confinement also runs `/bin/true`, and the "launch
// excluded" figures subtract that median from the workload's, so that they compare what the
// workload itself costs under each (issue 13's goals: agentrun enforce ≤ 1.05× bwrap, audit ≤
// 1.3× unconfined). Each launch runs the workload -repeat times in a row (a shell loop in the
// sandbox, which checks each run's exit status), and the table gives one run's share: the
// launch's median, subtracted once, then weighs a -repeat'th as much in the noise of the
// figures as it would with one run a launch.
//
// With -rootless USER every command runs as that user instead (setpriv), the fixture theirs:
// the figures of the sandbox most people get, without the denial recorder and the idmapped
// mount, and with audit mode's reads through the notifier.
//
// It runs as root from the repository root, builds agentrun with scripts/build.sh, and makes
// its fixture in /var/tmp (the sandbox's /tmp is its own), removed when it ends; GOCACHE,
// TMPDIR and the XDG directories point into it, so the user's event store and caches are not
// touched. A workload whose tool is not installed is skipped, and the table says so.
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
	treeFiles := flag.Int("tree", 16000, "files in the tree rg and grep search (at least 15,000 for issue 13's figures)")
	repoFiles := flag.Int("repo", 50000, "files in the git repository")
	modules := flag.Int("modules", 2000, "modules node requires")
	repeat := flag.Int("repeat", 5, "runs of each workload in one launch")
	only := flag.String("only", "", "run only the workloads whose name holds this `TEXT` (the launch always runs)")
	user := flag.String("rootless", "", "run every command as this unprivileged `USER` instead (setpriv; the fixture made theirs), the way most people run agentrun: no denial recorder, no idmapped mount, and audit mode's reads through the notifier")
	flag.Parse()
	if *repeat < 1 {
		fmt.Fprintln(os.Stderr, "workload: -repeat must be at least 1")
		os.Exit(2)
	}
	if err := run(*n, *repeat, *treeFiles, *repoFiles, *modules, *user, *only); err != nil {
		fmt.Fprintf(os.Stderr, "workload: %v\n", err)
		os.Exit(1)
	}
}

// pattern is what rg and grep look for: found nowhere, so they read every file (and exit 1).
const pattern = "agentrun_bench_no_such_word"

// workload is one command measured under every confinement.
type workload struct {
	name    string // the table's first column
	tool    string // the program that must be installed
	install string // how to install it
	argv    []string
	status  int // the exit status that means it did its work
	// subjects: unconfined, bwrap, enforce, audit (see confinements)
	subjects []*benchkit.Subject
	skipped  string
}

// confinement wraps a command: the prefix put before it.
type confinement struct {
	name   string
	prefix []string
}

func run(n, repeat, treeFiles, repoFiles, modules int, user, only string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("run as root (sudo go run ./bench/workload): the figures are issue 13's, measured with the sandbox's full tier (-rootless USER runs them as USER)")
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return fmt.Errorf("bwrap is not installed (apt-get install bubblewrap)")
	}
	dir, bin, err := benchkit.Fixture("/var/tmp", "agentrun-bench-workload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Set after the build, whose cache stays the user's: what the workloads and the sandboxes
	// write goes to the fixture. benchkit.Env adds XDG_STATE_HOME (agentrun's event store).
	for k, v := range map[string]string{
		"GOCACHE":         filepath.Join(dir, "gocache"),
		"GOTOOLCHAIN":     "local",
		"GOPROXY":         "off",
		"GOFLAGS":         "",
		"TMPDIR":          filepath.Join(dir, "tmp"),
		"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
	} {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(os.Getenv("TMPDIR"), 0o755); err != nil {
		return err
	}
	profile := filepath.Join(dir, "workload.yaml")
	if err := os.WriteFile(profile, []byte(profileYAML(dir)), 0o644); err != nil {
		return err
	}

	tree, repo, mods, gomod := filepath.Join(dir, "tree"), filepath.Join(dir, "repo"), filepath.Join(dir, "node"), filepath.Join(dir, "gomod")
	scratch, unmount, err := scratchMount(dir)
	if err != nil {
		return err
	}
	defer unmount() // before the fixture is removed: defers run last first
	workloads := []*workload{
		{name: "`rg -q` over " + count(treeFiles) + " files", tool: "rg", install: "apt-get install ripgrep",
			argv: []string{"rg", "-q", pattern, tree}, status: 1},
		{name: "`grep -r -q` over " + count(treeFiles) + " files", tool: "grep", install: "apt-get install grep",
			argv: []string{"grep", "-r", "-q", pattern, tree}, status: 1},
		{name: "`git status` on " + count(repoFiles) + " files", tool: "git", install: "apt-get install git",
			argv: []string{"git", "-C", repo, "status", "--porcelain"}},
		{name: "`node -e` requiring " + count(modules) + " modules", tool: "node", install: "apt-get install nodejs",
			argv: []string{"node", "-e", nodeScript(modules), mods}},
		{name: "warm `go build ./...`, 6 packages", tool: "go", install: "https://go.dev/doc/install",
			argv: []string{"go", "build", "-C", gomod, "./..."}},
		// Writes: files made and removed again (an install, a checkout, a build's output): the
		// tree's first ten directories, 1,000 files, copied to a tmpfs (see scratchMount).
		{name: "`cp -r` and `rm -r` of 1,000 files", tool: "sh", install: "apt-get install dash coreutils",
			argv: []string{"sh", "-c", `mkdir "$1" && cp -r "$0"/d00? "$1" && rm -r "$1"`, tree, filepath.Join(scratch, "copy")}},
		// Execs: what a configure script, a Makefile's recipes or an agent's shell does, one
		// short program after another (the notified call enforce mode keeps).
		{name: "500 short programs run by `sh`", tool: "sh", install: "apt-get install dash coreutils grep",
			argv: []string{"sh", "-c", `for i in $(seq 250); do echo $i | grep -q 7; expr $i + 1 >/dev/null; done`}},
	}
	for _, w := range workloads {
		if only != "" && !strings.Contains(w.name, only) {
			w.skipped = "skipped: not asked for (-only " + only + ")"
		}
	}
	for _, w := range workloads {
		if w.skipped != "" {
			continue
		}
		path, err := exec.LookPath(w.tool)
		if err != nil {
			w.skipped = fmt.Sprintf("skipped: %s is not installed (%s)", w.tool, w.install)
			continue
		}
		w.argv[0] = path
	}
	if err := makeFixtures(dir, workloads, treeFiles, repoFiles, modules, tree, repo, mods, gomod); err != nil {
		return err
	}
	var as []string // the prefix that runs a command as the user, -rootless
	audit := []string{bin, "--profile", profile, "--mode", "audit", "--"}
	if user != "" {
		u, err := benchkit.AsUser(dir, user)
		if err != nil {
			return err
		}
		defer os.RemoveAll(u.Home)
		if err := u.Own(dir); err != nil {
			return err
		}
		as = u.Prefix
		if !userTUN(u) {
			// Audit mode records connections through its network stack, which needs a TUN
			// device the user may open; without one it would refuse to run.
			audit = []string{bin, "--profile", profile, "--mode", "audit", "--allow-degraded", "--"}
			fmt.Fprintf(os.Stderr, "workload: /dev/net/tun is not %s's to open: audit mode runs with --allow-degraded (no network, none needed)\n", user)
		}
	}

	confinements := []confinement{
		{"unconfined", nil},
		{"bwrap", []string{bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--bind", dir, dir, "--chdir", dir}},
		{"agentrun enforce", []string{bin, "--profile", profile, "--mode", "enforce", "--"}},
		{"agentrun audit", audit},
	}
	launch := &workload{name: "launch: `/bin/true`", argv: []string{"/bin/true"}}
	var subjects []*benchkit.Subject
	for _, w := range append(workloads, launch) {
		if w.skipped != "" {
			continue
		}
		argv, status := w.argv, w.status
		if w != launch {
			argv, status = repeated(repeat, w.argv, w.status), 0
		}
		for _, c := range confinements {
			s := &benchkit.Subject{Name: c.name + ", " + w.name, Argv: append(append(append([]string(nil), as...), c.prefix...), argv...), Status: status}
			w.subjects = append(w.subjects, s)
			subjects = append(subjects, s)
		}
	}
	fmt.Fprintf(os.Stderr, "workload: %d runs of each of %d commands…\n", n, len(subjects))
	if err := benchkit.Interleave(dir, n, subjects); err != nil {
		return fmt.Errorf("%w\n(every command must succeed in its warm-up run: the profile is %s)", err, profile)
	}
	report(n, repeat, user, workloads, launch)
	return nil
}

// repeated is argv run k times in a row by a shell, each run wanting exit status status; the
// shell exits 0 when all of them had it, else 99.
func repeated(k int, argv []string, status int) []string {
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do "$0" "$@" >/dev/null 2>&1; [ $? -eq %d ] || exit 99; i=$((i+1)); done`, k, status)
	return append([]string{"/bin/sh", "-c", script}, argv...)
}

// profileYAML is the profile agentrun runs the workloads with: base and the fragments for the
// tools, the fixture writable, no network (the workloads need none, and egress would start
// the userspace network stack), GOCACHE passed so that go build finds its warm cache.
func profileYAML(dir string) string {
	return fmt.Sprintf(`name: workload
extends: [base, git, node, go]
filesystem:
  write: [%q]
network: none
env:
  pass: [GOCACHE, GOTOOLCHAIN, GOPROXY, GOFLAGS, TMPDIR]
`, dir)
}

// makeFixtures writes what the installed tools work on.
func makeFixtures(dir string, ws []*workload, treeFiles, repoFiles, modules int, tree, repo, mods, gomod string) error {
	have := map[string]bool{}
	for _, w := range ws {
		have[w.tool] = have[w.tool] || w.skipped == ""
	}
	step := func(what string, ok bool, f func() error) error {
		if !ok {
			return nil
		}
		fmt.Fprintf(os.Stderr, "workload: %s…\n", what)
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := step(fmt.Sprintf("writing a tree of %d files", treeFiles), have["rg"] || have["grep"] || have["sh"],
		func() error { return makeTree(tree, treeFiles) }); err != nil {
		return err
	}
	if err := step(fmt.Sprintf("committing a repository of %d files", repoFiles), have["git"],
		func() error { return makeRepo(repo, repoFiles) }); err != nil {
		return err
	}
	if err := step(fmt.Sprintf("writing %d node modules", modules), have["node"],
		func() error { return makeModules(mods, modules) }); err != nil {
		return err
	}
	return step("writing a Go module and warming its build cache", have["go"],
		func() error { return makeGoModule(gomod, 5, 8, benchkit.Env(dir)) })
}

// report prints the table: one run's share of each median with each confinement's launch (its
// /bin/true median) subtracted, and their ratios.
func report(n, repeat int, user string, ws []*workload, launch *workload) {
	launchOf := make([]time.Duration, len(launch.subjects))
	for i, s := range launch.subjects {
		launchOf[i] = benchkit.Median(s.Times)
	}
	var rows [][]string
	for _, w := range ws {
		if w.skipped != "" {
			rows = append(rows, []string{w.name, w.skipped, "", "", "", "", "", ""})
			continue
		}
		ex := make([]time.Duration, len(w.subjects))
		for i, s := range w.subjects {
			ex[i] = (benchkit.Median(s.Times) - launchOf[i]) / time.Duration(repeat)
		}
		const unconfined, bwrap, enforce, audit = 0, 1, 2, 3
		rows = append(rows, []string{w.name, ms(ex[unconfined]),
			ratio(ex[bwrap], ex[unconfined]), ratio(ex[enforce], ex[bwrap]), ratio(ex[audit], ex[unconfined]),
			ms(ex[bwrap]), ms(ex[enforce]), ms(ex[audit])})
	}
	l := launchOf
	rows = append(rows, []string{launch.name, ms(l[0]), "", "", "", ms(l[1]), ms(l[2]), ms(l[3])})
	as := ""
	if user != "" {
		as = " -rootless " + user
	}
	fmt.Printf("%s (`sudo go run ./bench/workload -n %d -repeat %d%s`)\n\n", benchkit.Machine(n), n, repeat, as)
	if user != "" {
		fmt.Printf("Every command ran as %s (setpriv), bwrap too; the fixture was theirs.\n", user)
	}
	fmt.Printf("Goals (issue 13), launch excluded: agentrun enforce ≤ 1.05× bwrap, agentrun audit ≤ 1.3× unconfined.\n")
	fmt.Printf("Launch excluded: each launch runs the workload %d times; each confinement's `/bin/true` median (the last row) is subtracted from its workload median, and the rest divided by %d: one run's time.\n\n", repeat, repeat)
	benchkit.Table(os.Stdout, []string{"workload (one run, launch excluded; the last row: one launch)", "unconfined", "bwrap × unconfined",
		"enforce × bwrap", "audit × unconfined", "bwrap", "agentrun enforce", "agentrun audit"}, rows)
}

var ms = benchkit.Ms

// count writes n with thousands separated: 16,000.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ratio is a/b, or "–" when b is not positive (a workload no slower than its launch).
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return benchkit.Ratio(a, b)
}
