package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/darwin/sbpl"
	"github.com/agentrun/agentrun/profiles"
)

// targetSBPL is the compile target that writes a macOS Seatbelt profile. It is not one of the
// backend's targets: the compiler is pure, so every host has it, and it takes a flag of its
// own.
const targetSBPL = "sbpl"

// sbplTag is the message tag of a profile compiled by hand; a run passes its own.
const sbplTag = "agentrun-compile"

var sbplFlags = []cli.Flag{
	&cli.IntSliceFlag{Name: "proxy-port", Usage: "sbpl: a `PORT` of agentrun's proxy on localhost the agent may connect to (repeatable; none: no network)"},
}

// compileSBPL writes the profile of agentrun compile --target sbpl PROFILE, then its
// parameters as the sandbox-exec arguments of this launch, in comments.
func compileSBPL(c *cli.Context, b platform.Backend) error {
	pol, err := namedPolicy(c, b)
	if err != nil {
		return err
	}
	p, err := sbpl.Compile(pol, sbpl.Options{Tag: sbplTag, ProxyPorts: c.IntSlice("proxy-port"), Audit: pol.Mode == profiles.ModeAudit})
	if err != nil {
		return err
	}
	var out strings.Builder
	out.WriteString(p.Text)
	out.WriteString("\n; The parameters of this launch (paths as this host resolves them):\n; /usr/bin/sandbox-exec -f FILE")
	for _, prm := range p.Params {
		fmt.Fprintf(&out, " \\\n;   -D %s", shellQuote(prm.Name+"="+prm.Value))
	}
	out.WriteString(" \\\n;   CMD ARGS\n")
	_, err = c.App.Writer.Write([]byte(out.String()))
	return err
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain characters; control
// characters (which a profile's paths never hold) are written as ?.
func shellQuote(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=/.,:+@%-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
