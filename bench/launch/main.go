// Command launch measures how long `agentrun -- /bin/true` takes and how much memory agentrun
// itself holds, next to bubblewrap and a bare /bin/true, interleaved in one run so that all
// see the same machine, and prints a markdown table of medians and ratios to bwrap:
//
//	go run ./bench/launch -n 40
//
// Two peaks of resident memory are reported. "agentrun's own" is the VmHWM of the agentrun
// process on the host, which agentrun writes as it exits when AGENTRUN_BENCH_RUSAGE names a
// file: the figure issue 12 bounds. "largest process" is the ru_maxrss wait4 returns, the
// largest resident set among the command and every descendant reaped below it, so the
// sandbox's own processes (its init, the stage, /bin/true) are in it too; it never reads below
// this benchmark's own resident set (about 3 MiB), which the kernel counts for the forked child
// until it execs.
//
// It runs as root (the sandbox's full tier) from the repository root and builds agentrun with
// scripts/build.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/agentrun/agentrun/bench/internal/benchkit"
)

func main() {
	n := flag.Int("n", 40, "runs of each command")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(1)
	}
}

// The command bubblewrap is compared with: every namespace, the host read-only, /dev and /proc.
var bwrapArgs = []string{"--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"}

func run(n int) error {
	dir, bin, err := benchkit.Fixture("", "agentrun-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	netProfile := filepath.Join(dir, "egress.yaml")
	if err := os.WriteFile(netProfile, []byte("name: egress\nextends: [base]\nnetwork:\n  allow: [api.example.com]\n"), 0o644); err != nil {
		return err
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return fmt.Errorf("bwrap is not installed (apt-get install bubblewrap)")
	}
	bare := &benchkit.Subject{Name: "bare `/bin/true`", Argv: []string{"/bin/true"}}
	bw := &benchkit.Subject{Name: "`bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc`", Argv: append([]string{bwrap}, bwrapArgs...)}
	base := &benchkit.Subject{Name: "`agentrun --profile base --network=none`", Argv: []string{bin, "--profile", "base", "--network=none", "--", "/bin/true"}, ReportsPeak: true}
	egress := &benchkit.Subject{Name: "`agentrun --profile egress` (base + `network.allow`)", Argv: []string{bin, "--profile", netProfile, "--", "/bin/true"}, ReportsPeak: true}
	subjects := []*benchkit.Subject{bare, bw, base, egress}
	fmt.Fprintf(os.Stderr, "launch: %d runs of each of %d commands…\n", n, len(subjects))
	if err := benchkit.Interleave(dir, n, subjects); err != nil {
		return err
	}
	goals := map[*benchkit.Subject]string{base: "≤ 1.5×, own RSS ≤ 25 MiB", egress: "≤ 3×"}
	var rows [][]string
	bwMedian := benchkit.Median(bw.Times)
	for _, s := range subjects {
		m := benchkit.Median(s.Times)
		own := "–"
		if s.ReportsPeak {
			own = benchkit.MiB(s.OwnPeak)
		}
		rows = append(rows, []string{s.Name, benchkit.Ms(m), benchkit.Ms(benchkit.Percentile(s.Times, 0.9)),
			benchkit.Ratio(m, bwMedian), goals[s], own, benchkit.MiB(s.TreePeak)})
	}
	fmt.Printf("%s (`go run ./bench/launch -n %d`)\n\n", benchkit.Machine(n), n)
	benchkit.Table(os.Stdout, []string{"… -- /bin/true", "median", "p90", "× bwrap", "goal", "agentrun's own peak RSS", "peak RSS, largest process"}, rows)
	return nil
}
