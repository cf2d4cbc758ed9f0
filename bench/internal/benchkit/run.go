package benchkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PeakEnv names the file to which agentrun writes its own peak resident memory as it exits
// (the VmHWM line of /proc/self/status; see cmd/agentrun/main.go).
const PeakEnv = "AGENTRUN_BENCH_RUSAGE"

// Subject is one command of an interleaved run and what was measured of it.
type Subject struct {
	Name string
	Argv []string
	// ReportsPeak: the command is agentrun, which writes its own peak memory to the file
	// named by PeakEnv.
	ReportsPeak bool
	// Optional: a command that fails its warm-up run is skipped (Skipped says why) rather than
	// ending the benchmark; for peers that may be missing or misconfigured.
	Optional bool
	// Skipped says why the command was not measured; "" when it was.
	Skipped string
	// Status is the exit status that means the command did its work: 0 for most, 1 for a
	// search that must read every file because nothing matches (rg, grep). Any other status
	// ends the benchmark (or skips an Optional subject).
	Status int

	Times []time.Duration
	// TreePeak is wait4's ru_maxrss of each run, in KiB: the largest resident set among the
	// process and the descendants it (or they) reaped, so for a sandbox launcher the
	// sandbox's own processes are in it.
	TreePeak []int64
	// OwnPeak is the command's own peak resident set of each run, in KiB (ReportsPeak only).
	OwnPeak []int64
	// CPU (user and system), Switches (context switches, voluntary or not) and Faults (page
	// faults) of each run, from wait4 as TreePeak: the command and what it reaped.
	CPU      []time.Duration
	Switches []int64
	Faults   []int64
}

// usage is what wait4 reports of a run (see usageOf).
type usage struct {
	maxRSS           int64 // KiB
	cpu              time.Duration
	switches, faults int64
}

// Interleave warms each subject up once, then runs all of them n times in turn, starting each
// round with the next subject so that none always runs first, all in dir with Env(dir).
func Interleave(dir string, n int, subjects []*Subject) error {
	var live []*Subject
	for _, s := range subjects {
		if s.Skipped != "" {
			continue
		}
		if err := s.once(dir, false); err != nil {
			if !s.Optional {
				return err
			}
			s.Skipped = firstLine(err.Error())
			continue
		}
		live = append(live, s)
	}
	for i := 0; i < n; i++ {
		for j := range live {
			if err := live[(i+j)%len(live)].once(dir, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// once runs s one time and, when record is set, appends what was measured.
func (s *Subject) once(dir string, record bool) error {
	cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
	cmd.Dir, cmd.Env = dir, Env(dir)
	peakFile := filepath.Join(dir, "peak")
	if s.ReportsPeak {
		os.Remove(peakFile)
		cmd.Env = append(cmd.Env, PeakEnv+"="+peakFile)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if cmd.ProcessState == nil {
		return fmt.Errorf("%s: %v", s.Name, err)
	}
	if code := cmd.ProcessState.ExitCode(); code != s.Status {
		return fmt.Errorf("%s: %s, want exit status %d: %s", s.Name, cmd.ProcessState, s.Status, strings.TrimSpace(out.String()))
	}
	if !record {
		return nil
	}
	s.Times = append(s.Times, elapsed)
	if u, ok := usageOf(cmd.ProcessState); ok {
		s.TreePeak = append(s.TreePeak, u.maxRSS)
		s.CPU = append(s.CPU, u.cpu)
		s.Switches = append(s.Switches, u.switches)
		s.Faults = append(s.Faults, u.faults)
	}
	if s.ReportsPeak {
		if kib, err := readPeak(peakFile); err == nil {
			s.OwnPeak = append(s.OwnPeak, kib)
		}
	}
	return nil
}

// readPeak reads the "VmHWM:   12345 kB" line agentrun wrote.
func readPeak(file string) (int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 3 || f[0] != "VmHWM:" || f[2] != "kB" {
		return 0, fmt.Errorf("%s: unexpected %q", file, b)
	}
	return strconv.ParseInt(f[1], 10, 64)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
