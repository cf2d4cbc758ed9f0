package launcher

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/agentrun/agentrun/platform"
)

// ExitTimeout is agentrun's exit status when the run's deadline (--timeout) was hit, whatever
// the agent's, as timeout(1) has it.
const ExitTimeout = 124

// deadlineOf is the platform's deadline for --timeout, counted from start; nil without one.
func deadlineOf(opts RunOptions, start time.Time) *platform.Deadline {
	if opts.Timeout <= 0 {
		return nil
	}
	return &platform.Deadline{At: start.Add(opts.Timeout), Grace: opts.TimeoutGrace}
}

// timeoutLine says that the deadline was hit and whether SIGKILL was needed.
func timeoutLine(r *Report) string {
	t := r.Timeout
	s := fmt.Sprintf("the run's deadline (--timeout %s) was hit: every process of the sandbox was sent SIGTERM", time.Duration(t.Seconds*float64(time.Second)))
	if t.Killed {
		return s + fmt.Sprintf("; processes were still running after the grace period (--timeout-grace %s) and were killed with SIGKILL", time.Duration(t.GraceSeconds*float64(time.Second)))
	}
	return s + "; everything ended within the grace period, no SIGKILL was needed"
}

// finishCI is the end of a run for CI: the deadline said on stderr, the report written (to
// stdout for "-"), and in GitHub Actions the denials as workflow commands and the step
// summary. It returns agentrun's exit status: ExitTimeout when the deadline was hit, else code.
func finishCI(in reportInput, stdout, stderr io.Writer) int {
	status := in.status // set when the run failed
	if status == 0 {
		status = in.code
	}
	if in.outcome.TimedOut {
		status = ExitTimeout
	}
	in.status = status
	if !in.outcome.TimedOut && in.opts.Report == "" && !inGitHubActions() {
		return status // nothing to say: no report is built on an ordinary run
	}
	r := buildReport(in)
	if r.Timeout != nil && r.Timeout.Hit {
		fmt.Fprintf(stderr, "agentrun: %s; exit status %d (the agent's was %d)\n", timeoutLine(r), ExitTimeout, in.code)
	}
	if inGitHubActions() {
		githubAnnotations(stderr, r)
		if p := os.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
			if err := appendStepSummary(p, r); err != nil {
				fmt.Fprintf(stderr, "agentrun: %v\n", err)
			}
		}
	}
	if in.opts.Report != "" {
		if err := writeReport(r, in.opts.Report, stdout); err != nil {
			fmt.Fprintf(stderr, "agentrun: %v\n", err)
			if status == 0 {
				status = ExitError
			}
		}
	}
	return status
}
