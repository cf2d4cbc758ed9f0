// Command launch measures how long `agentrun -- /bin/true` takes under the full base policy,
// next to bubblewrap and a bare /bin/true, interleaved in one run so that all three see the
// same machine, and reports medians and ratios.
//
//	go run ./bench/launch -n 100
//
// It runs as root (the sandbox's full tier) and builds agentrun with scripts/build.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/agentrun/agentrun/bench/internal/benchkit"
)

func main() {
	n := flag.Int("n", 50, "runs of each command")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintf(os.Stderr, "launch: %v\n", err)
		os.Exit(1)
	}
}

type subject struct {
	name  string
	argv  []string
	times []time.Duration
}

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
	subjects := []*subject{
		{name: "bare /bin/true", argv: []string{"/bin/true"}},
		{name: "bwrap", argv: []string{bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "/bin/true"}},
		{name: "agentrun (base profile)", argv: []string{bin, "--profile", "base", "--", "/bin/true"}},
		{name: "agentrun (with egress)", argv: []string{bin, "--profile", netProfile, "--", "/bin/true"}},
	}
	for _, s := range subjects { // warm up caches once
		warm := exec.Command(s.argv[0], s.argv[1:]...)
		warm.Env = benchkit.Env(dir)
		if out, err := warm.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", s.name, err, out)
		}
	}
	for i := 0; i < n; i++ {
		for _, s := range subjects {
			cmd := exec.Command(s.argv[0], s.argv[1:]...)
			cmd.Env = benchkit.Env(dir)
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %v\n%s", s.name, err, out)
			}
			s.times = append(s.times, time.Since(start))
		}
	}
	bw := benchkit.Median(subjects[1].times)
	fmt.Printf("%-26s %12s %12s %12s\n", "command", "median", "p90", "vs bwrap")
	for _, s := range subjects {
		m := benchkit.Median(s.times)
		fmt.Printf("%-26s %12s %12s %11.2fx\n", s.name, m.Round(10*time.Microsecond), benchkit.Percentile(s.times, 0.9).Round(10*time.Microsecond), float64(m)/float64(bw))
	}
	return nil
}
