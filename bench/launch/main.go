// Command launch measures how long `agentrun -- /bin/true` takes and how much memory agentrun
// itself holds, next to bubblewrap and a bare /bin/true, interleaved in one run so that all
// see the same machine, and prints a markdown table of medians and ratios to bwrap:
//
//	go run ./bench/launch -n 40
//
// With -steps it says instead when each step of a launch is reached (agentrun writes them where
// AGENTRUN_BENCH_STEPS says), as medians over -n launches of the base profile:
//
//	go run ./bench/launch -steps -n 25
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
	"github.com/agentrun/agentrun/platform/steps"
)

func main() {
	n := flag.Int("n", 40, "runs of each command")
	user := flag.String("rootless", "", "also run agentrun and bwrap as this unprivileged `USER` (setpriv), the way most people run it")
	stepsOnly := flag.Bool("steps", false, "instead, say when each step of a launch is reached (agentrun's "+steps.Env+")")
	flag.Parse()
	var err error
	if *stepsOnly {
		err = launchSteps(*n)
	} else {
		err = run(*n, *user)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(1)
	}
}

// The command bubblewrap is compared with: every namespace, the host read-only, /dev and /proc.
var bwrapArgs = []string{"--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"}

func run(n int, user string) error {
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
	var userBw, userBase *benchkit.Subject
	if user != "" {
		u, err := benchkit.AsUser(dir, user)
		if err != nil {
			return err
		}
		defer os.RemoveAll(u.Home)
		as := u.Prefix[:len(u.Prefix):len(u.Prefix)] // each append below copies
		userBw = &benchkit.Subject{Name: "`bwrap …` as " + user, Argv: append(as, append([]string{bwrap}, bwrapArgs...)...)}
		userBase = &benchkit.Subject{Name: "`agentrun --profile base --network=none` as " + user, Argv: append(as, bin, "--profile", "base", "--network=none", "--", "/bin/true")}
		subjects = append(subjects, userBw, userBase)
	}
	fmt.Fprintf(os.Stderr, "launch: %d runs of each of %d commands…\n", n, len(subjects))
	if err := benchkit.Interleave(dir, n, subjects); err != nil {
		return err
	}
	goals := map[*benchkit.Subject]string{base: "≤ 1.5×, own RSS ≤ 25 MiB", egress: "≤ 3×"}
	var rows [][]string
	bwMedian := benchkit.Median(bw.Times)
	for _, s := range subjects {
		m, ref := benchkit.Median(s.Times), bwMedian
		if s == userBase {
			ref = benchkit.Median(userBw.Times) // against bwrap as the same user
		}
		own := "–"
		if s.ReportsPeak {
			own = benchkit.MiB(s.OwnPeak)
		}
		rows = append(rows, []string{s.Name, benchkit.Ms(m), benchkit.Ms(benchkit.Percentile(s.Times, 0.9)),
			benchkit.Ratio(m, ref), goals[s], own, benchkit.MiB(s.TreePeak)})
	}
	fmt.Printf("%s (`go run ./bench/launch -n %d`)\n\n", benchkit.Machine(n), n)
	benchkit.Table(os.Stdout, []string{"… -- /bin/true", "median", "p90", "× bwrap", "goal", "agentrun's own peak RSS", "peak RSS, largest process"}, rows)
	fmt.Printf("\nWhat a launch costs the machine (wait4's rusage: the command and every process it reaped), medians, × bwrap:\n\n")
	benchkit.Table(os.Stdout, []string{"… -- /bin/true", "CPU (user + system)", "context switches", "page faults"}, costRows(subjects, bw, userBw, userBase))
	return nil
}

// costRows are the CPU, context switches and page faults of each subject, each against
// bwrap's (the user's bwrap for the user's agentrun).
func costRows(subjects []*benchkit.Subject, bw, userBw, userBase *benchkit.Subject) [][]string {
	var rows [][]string
	for _, s := range subjects {
		ref := bw
		if s == userBase {
			ref = userBw
		}
		cpu := benchkit.Median(s.CPU)
		rows = append(rows, []string{s.Name, benchkit.Ms(cpu) + " (" + benchkit.Ratio(cpu, benchkit.Median(ref.CPU)) + ")",
			benchkit.Count(s.Switches, ref.Switches), benchkit.Count(s.Faults, ref.Faults)})
	}
	return rows
}
