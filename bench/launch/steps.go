package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agentrun/agentrun/bench/internal/benchkit"
	"github.com/agentrun/agentrun/platform/steps"
)

// launchSteps runs `agentrun --profile base --network=none -- /bin/true` n times with
// steps.Env set, and prints when each step of the launch was reached: the median, over
// the runs, of the milliseconds since agentrun was started (the clock read just before the
// fork), in the order the steps come, with the time since the step before.
func launchSteps(n int) error {
	dir, bin, err := benchkit.Fixture("", "agentrun-bench-steps-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	since := map[string][]time.Duration{}
	for i := 0; i <= n; i++ { // the first run warms up and is not counted
		file := filepath.Join(dir, fmt.Sprintf("steps-%d", i))
		cmd := exec.Command(bin, "--profile", "base", "--network=none", "--", "/bin/true")
		cmd.Dir = dir
		cmd.Env = append(benchkit.Env(dir), steps.Env+"="+file)
		start := steps.Clock()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("agentrun: %v\n%s", err, out)
		}
		reaped := time.Duration(steps.Clock() - start)
		got, err := readSteps(file, start)
		if err != nil {
			return err
		}
		got["agentrun reaped by this benchmark"] = reaped
		if i == 0 {
			continue
		}
		for name, d := range got {
			since[name] = append(since[name], d)
		}
	}
	type row struct {
		name string
		at   time.Duration
		runs int
	}
	var rows []row
	for name, ds := range since {
		rows = append(rows, row{name, benchkit.Median(ds), len(ds)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].at < rows[j].at })
	var table [][]string
	prev := time.Duration(0)
	for _, r := range rows {
		runs := ""
		if r.runs != n {
			runs = fmt.Sprintf("%d of %d runs", r.runs, n)
		}
		table = append(table, []string{r.name, benchkit.Ms(r.at), "+" + benchkit.Ms(r.at-prev), runs})
		prev = r.at
	}
	fmt.Printf("%s (`go run ./bench/launch -steps -n %d`): `agentrun --profile base --network=none -- /bin/true`, each step's median time since agentrun was started\n\n", benchkit.Machine(n), n)
	benchkit.Table(os.Stdout, []string{"step", "since the start", "since the step before", ""}, table)
	return nil
}

// readSteps reads the lines agentrun and its stage appended to file (monotonic nanoseconds,
// pid, step), each as the time since start; a step reached twice counts the first time.
func readSteps(file string, start int64) (map[string]time.Duration, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("agentrun wrote no steps: %w", err)
	}
	defer f.Close()
	out := map[string]time.Duration{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), " ", 3)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s: a line that is not a step: %q", file, sc.Text())
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		if _, seen := out[fields[2]]; !seen {
			out[fields[2]] = time.Duration(ns - start)
		}
	}
	return out, sc.Err()
}
