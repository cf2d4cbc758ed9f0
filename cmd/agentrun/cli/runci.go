package cli

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/launcher"
)

// ciFlags are the run's flags for CI jobs: a deadline and a report.
func ciFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "timeout", Usage: "end the run after `DURATION` (such as 20m or 1h30m): every process of the sandbox gets SIGTERM, then SIGKILL after --timeout-grace; agentrun exits 124"},
		&cli.StringFlag{Name: "timeout-grace", Value: "10s", Usage: "`DURATION` between the deadline's SIGTERM and SIGKILL"},
		&cli.StringFlag{Name: "report", Usage: "write the run's report (JSON: profile, layers, exit status, resource peaks, denials; docs/report.schema.json) to `FILE` when it ends; - for stdout"},
	}
}

// ciOptions reads the CI flags into opts.
func ciOptions(c *cli.Context, opts *launcher.RunOptions) error {
	opts.Report = c.String("report")
	opts.Version = Version
	grace, err := parseDurationFlag(c, "timeout-grace", true)
	if err != nil {
		return err
	}
	if c.IsSet("timeout-grace") && !c.IsSet("timeout") {
		return usageError("add --timeout DURATION, the deadline the grace period follows", "--timeout-grace needs --timeout")
	}
	timeout, err := parseDurationFlag(c, "timeout", false)
	if err != nil {
		return err
	}
	opts.Timeout, opts.TimeoutGrace = timeout, grace
	return nil
}

// parseDurationFlag reads flag name as a duration; 0 when it is not given. zeroOK lets it be 0.
func parseDurationFlag(c *cli.Context, name string, zeroOK bool) (time.Duration, error) {
	s := c.String(name)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, usageError("write a duration such as 20m, 90s or 1h30m", "--%s %q is not a duration", name, s)
	}
	if d < 0 || (d == 0 && !zeroOK) {
		return 0, usageError("write a duration such as 20m, 90s or 1h30m", "--%s %q: the duration must be more than 0", name, s)
	}
	return d, nil
}
