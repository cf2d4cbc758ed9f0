// Command peers measures how long agentrun takes to run /bin/true with no network next to the
// other sandboxes agents are run in — bubblewrap alone, `codex sandbox` (OpenAI Codex's Linux
// sandbox) and `srt` (Anthropic's sandbox-runtime) — interleaved in one run, and prints a
// markdown table of medians and ratios to agentrun:
//
//	go run ./bench/peers -n 20
//
// Each peer runs as it comes, with no network: `codex sandbox -- /bin/true` under Codex's
// default policy for it (read-only, no network), `srt -s SETTINGS -- /bin/true` with settings
// that allow no domain and no write. A peer that is not installed, or fails its warm-up run,
// is reported and skipped; bench/peers/install.sh installs them. It runs as root from the
// repository root and builds agentrun with scripts/build.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/bench/internal/benchkit"
)

func main() {
	n := flag.Int("n", 20, "runs of each command")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(1)
	}
}

// srtSettings is the least srt accepts: no domain allowed, nothing writable, reads as they are.
const srtSettings = `{"network": {"allowedDomains": [], "deniedDomains": []},
 "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
`

// codexMin is the first Codex whose `codex sandbox -- CMD` takes the command directly (older
// ones want `codex sandbox linux -- CMD`).
var codexMin = [3]int{0, 145, 0}

func run(n int) error {
	dir, bin, err := benchkit.Fixture("", "agentrun-bench-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return fmt.Errorf("bwrap is not installed (apt-get install bubblewrap)")
	}
	settings := filepath.Join(dir, "srt-settings.json")
	if err := os.WriteFile(settings, []byte(srtSettings), 0o644); err != nil {
		return err
	}
	bw := &benchkit.Subject{Name: "`bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc`",
		Argv: []string{bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"}}
	agentrun := &benchkit.Subject{Name: "`agentrun --profile base --network=none`",
		Argv: []string{bin, "--profile", "base", "--network=none", "--", "/bin/true"}}
	codex := peer("codex", "@openai/codex", func(path, version string) (*benchkit.Subject, string) {
		if v, ok := semver(version); ok && less(v, codexMin) {
			return nil, fmt.Sprintf("%s is older than 0.145 (npm i -g @openai/codex)", version)
		}
		return &benchkit.Subject{Name: "`codex sandbox` (" + version + ")", Argv: []string{path, "sandbox", "--", "/bin/true"}}, ""
	})
	srt := peer("srt", "@anthropic-ai/sandbox-runtime", func(path, version string) (*benchkit.Subject, string) {
		// srt leaves a socket in its temporary directory on every run: the fixture's, not /tmp.
		return &benchkit.Subject{Name: "`srt -s SETTINGS` (" + version + ")", Argv: []string{"env", "TMPDIR=" + dir, path, "-s", settings, "--", "/bin/true"}}, ""
	})
	subjects := []*benchkit.Subject{bw, agentrun, codex, srt}
	fmt.Fprintf(os.Stderr, "peers: %d runs of each command…\n", n)
	if err := benchkit.Interleave(dir, n, subjects); err != nil {
		return err
	}
	am, bm := benchkit.Median(agentrun.Times), benchkit.Median(bw.Times)
	var rows [][]string
	for _, s := range subjects {
		if s.Skipped != "" {
			rows = append(rows, []string{s.Name, s.Skipped, "", "", "", ""})
			continue
		}
		m := benchkit.Median(s.Times)
		rows = append(rows, []string{s.Name, benchkit.Ms(m), benchkit.Ms(benchkit.Percentile(s.Times, 0.9)),
			benchkit.Ratio(m, am), benchkit.Ratio(m, bm), benchkit.MiB(s.TreePeak)})
	}
	fmt.Printf("%s (`go run ./bench/peers -n %d`)\n\n", benchkit.Machine(n), n)
	benchkit.Table(os.Stdout, []string{"… -- /bin/true", "median", "p90", "× agentrun", "× bwrap", "peak RSS, largest process"}, rows)
	return nil
}

// peer finds the command name and its version and makes its subject with mk, or a skipped
// subject that says how to install it (npm package pkg) or why it is not measured.
func peer(name, pkg string, mk func(path, version string) (*benchkit.Subject, string)) *benchkit.Subject {
	missing := &benchkit.Subject{Name: "`" + name + "`", Skipped: "not installed (npm i -g " + pkg + ")"}
	path, err := exec.LookPath(name)
	if err != nil {
		return missing
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		missing.Skipped = fmt.Sprintf("%s --version: %v", name, err)
		return missing
	}
	version := strings.TrimSpace(string(out))
	s, why := mk(path, version)
	if why != "" {
		missing.Skipped = why
		return missing
	}
	s.Optional = true // a peer that fails its warm-up run is reported, not fatal
	return s
}

// semver finds the first x.y.z in s ("codex-cli 0.171.0").
func semver(s string) ([3]int, bool) {
	for _, f := range strings.Fields(s) {
		parts := strings.SplitN(strings.TrimPrefix(f, "v"), ".", 3)
		if len(parts) != 3 {
			continue
		}
		var v [3]int
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			v[i], ok = n, ok && err == nil
		}
		if ok {
			return v, true
		}
	}
	return [3]int{}, false
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
