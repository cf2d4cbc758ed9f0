// Command agentrun runs an AI coding agent confined by the operating system:
//
//	agentrun -- claude
//
// See agentrun --help and README.md.
package main

import (
	"bufio"
	"bytes"
	"os"

	"github.com/agentrun/agentrun/cmd/agentrun/cli"
	"github.com/agentrun/agentrun/platform/steps"
)

// benchPeakEnv names a file to which agentrun writes, as it exits, the peak resident memory of
// its own process (the VmHWM line of /proc/self/status), for bench/launch: the rusage a parent
// gets from wait4 also counts the reaped descendants (the sandbox's processes), so it cannot
// tell agentrun's own peak.
const benchPeakEnv = "AGENTRUN_BENCH_RUSAGE"

func main() {
	steps.Step("agentrun started")
	code := cli.Main(newBackend(), os.Args, os.Stdin, os.Stdout, os.Stderr, namedBackends()...)
	if file := os.Getenv(benchPeakEnv); file != "" {
		writePeak(file)
	}
	steps.Step("agentrun exits")
	os.Exit(code)
}

// writePeak writes the VmHWM line of /proc/self/status to file; where there is no such line
// (not Linux) it writes nothing. It never changes the exit status: a benchmark notices the
// missing figure.
func writePeak(file string) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if line := sc.Bytes(); bytes.HasPrefix(line, []byte("VmHWM:")) {
			_ = os.WriteFile(file, append(line, '\n'), 0o600)
			return
		}
	}
}
