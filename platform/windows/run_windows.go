package windows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"

	"golang.org/x/term"

	"github.com/agentrun/agentrun/netfilter/proxy"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/windows/acl"
	"github.com/agentrun/agentrun/platform/windows/appcontainer"
)

// Run starts the agent of spec in its profile's AppContainer with the run's ACL grants and a
// Job Object, relays the console and Ctrl-C, takes the grants back, and returns the agent's
// exit code. In audit mode the agent runs outside any container (nothing is denied), in the
// Job Object, its proxied flows recorded.
func (b *Backend) Run(ctx context.Context, spec *platform.Spec) (code int, err error) {
	pol := spec.Policy
	out := spec.Outcome
	if out == nil {
		out = &platform.Outcome{}
	}
	if len(spec.Command) == 0 {
		return 0, fmt.Errorf("running in an AppContainer: no command")
	}
	h := probeHost(containerName(pol.Name))
	layers := layersFor(pol, h)
	givenUp, err := platform.DecideLayers(layers, spec.AllowDegraded, LayerAppContainer)
	if err != nil {
		return 0, err
	}
	network := !pol.Network.None()
	for _, l := range givenUp {
		fmt.Fprintf(spec.Stderr, "agentrun: --allow-degraded: giving up %s (%s)\n", l.Name, l.Enforces)
		if l.Name == LayerEgress {
			network = false
		}
	}
	out.Tier, out.Layers = TierAppContainer, layers
	out.Usage = platform.Usage{UnknownWhy: "Windows: agentrun reads no usage from the Job Object yet"}

	pl := b.planOf(pol, spec.Path)
	if spec.Trace {
		for _, n := range pl.Notes {
			fmt.Fprintf(spec.Stderr, "agentrun: windows: %s\n", n)
		}
	}
	journal, err := acl.Open(filepath.Join(b.stateDir(), "acl"), acl.NewEditor())
	if err != nil {
		return 0, fmt.Errorf("opening the ACL journal: %w", err)
	}
	if n, err := journal.Recover(); err != nil {
		return 0, fmt.Errorf("taking back the ACL grants of an earlier run that did not end cleanly: %w", err)
	} else if n > 0 {
		fmt.Fprintf(spec.Stderr, "agentrun: took back %d ACL grants left by an earlier run that did not end cleanly\n", n)
	}

	var prof *appcontainer.Profile
	env := withSystemEnv(spec.Env, os.Environ())
	if !pl.Audit {
		if prof, err = appcontainer.OpenProfile(pl.Container, "agentrun "+pol.Name, "agentrun's sandbox for the profile "+pol.Name); err != nil {
			return 0, err
		}
		run, err := journal.Begin(newRunID(), prof.SID.String())
		if err != nil {
			return 0, fmt.Errorf("recording the run in the ACL journal: %w", err)
		}
		defer func() {
			if endErr := run.End(); endErr != nil && err == nil {
				err = fmt.Errorf("taking back the run's ACL grants (the next run will finish it): %w", endErr)
			}
		}()
		for _, g := range pl.Grants {
			if err := run.Grant(g); err != nil {
				return 0, fmt.Errorf("granting the container access to %s: %w", g.Path, err)
			}
		}
		for _, t := range pl.Traverse {
			if err := run.Grant(acl.Grant{Path: t, Access: acl.Traverse}); err != nil && spec.Trace {
				fmt.Fprintf(spec.Stderr, "agentrun: windows: %s stays closed to the container: %v\n", t, err)
			}
		}
		if network && !h.Exempt[pl.Container] {
			if _, err := exemptFromLoopback([]string{pl.Container}); err != nil {
				return 0, err
			}
		}
		if dir, err := prof.Folder(); err == nil {
			tmp := filepath.Join(dir, "Temp")
			env = platform.WithEnv(env, []string{"TEMP=" + tmp, "TMP=" + tmp})
		}
	}
	if network {
		eg, err := proxy.StartFor(ctx, pol, spec.Events)
		if err != nil {
			return 0, err
		}
		defer eg.Stop()
		env = platform.WithEnv(env, eg.Env)
	}

	opts := &appcontainer.Options{Profile: prof, Path: spec.Path, Args: spec.Command, Env: env, Dir: spec.Dir, Limits: pl.Limits,
		LessPrivileged: prof != nil && os.Getenv(LPACEnv) == "1"}
	stdio, err := attachStdio(spec, opts)
	if err != nil {
		return 0, err
	}
	defer stdio.close()
	p, err := appcontainer.Start(opts)
	if err != nil {
		return 0, fmt.Errorf("starting %s in the container %s: %w", spec.Path, pl.Container, err)
	}
	defer p.Close()
	stdio.started(ctx)
	if spec.Started != nil {
		spec.Started()
	}
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	defer signal.Stop(interrupts)
	go func() {
		for range interrupts {
			_ = p.Interrupt()
		}
	}()
	stopDeadline := platform.WatchDeadline(spec.Deadline, out, p.Interrupt, func() { _ = p.Kill() })
	exit, werr := p.Wait()
	stopDeadline()
	_ = p.Kill() // what the agent left running in its job ends with it
	stdio.drain()
	if werr != nil {
		return 0, fmt.Errorf("waiting for the agent: %w", werr)
	}
	if p.LimitHit() == "memory" {
		return 0, &platform.OOMError{Limit: pl.Limits.MemoryBytes, Code: int(exit)}
	}
	return int(exit), nil
}

// stdio is how the agent's standard streams are connected: a pseudo console when agentrun's
// own is a terminal, else the caller's files, or pipes copied to and from what is not a file.
type stdio struct {
	console  *appcontainer.Console
	in       *os.File
	out      *os.File
	stopTerm func()
	closers  []io.Closer
	copies   sync.WaitGroup
	pending  []func()
}

func attachStdio(spec *platform.Spec, opts *appcontainer.Options) (*stdio, error) {
	s := &stdio{}
	if f, ok := spec.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if o, ok := spec.Stdout.(*os.File); ok && term.IsTerminal(int(o.Fd())) {
			cols, rows, err := term.GetSize(int(o.Fd()))
			if err != nil {
				cols, rows = 80, 25
			}
			c, err := appcontainer.NewConsole(cols, rows)
			if err != nil {
				return nil, fmt.Errorf("making the agent's pseudo console: %w", err)
			}
			s.console, s.in, s.out = c, f, o
			s.closers = append(s.closers, c)
			opts.Console = c
			return s, nil
		}
	}
	var err error
	if opts.Stdin, err = s.reader(spec.Stdin); err != nil {
		return nil, err
	}
	if opts.Stdout, err = s.writer(spec.Stdout); err != nil {
		return nil, err
	}
	if opts.Stderr, err = s.writer(spec.Stderr); err != nil {
		return nil, err
	}
	return s, nil
}

// reader is r as a file the agent can inherit: r itself, the null device, or a pipe fed from r.
func (s *stdio) reader(r io.Reader) (*os.File, error) {
	if f, ok := r.(*os.File); ok {
		return f, nil
	}
	if r == nil {
		f, err := os.Open(os.DevNull)
		s.closers = append(s.closers, f)
		return f, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, pr)
	s.pending = append(s.pending, func() {
		go func() { _, _ = io.Copy(pw, r); pw.Close() }()
	})
	return pr, nil
}

// writer is w as a file the agent can inherit: w itself, the null device, or a pipe copied to w.
func (s *stdio) writer(w io.Writer) (*os.File, error) {
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	if w == nil {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		s.closers = append(s.closers, f)
		return f, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, pw) // closed once the agent has its copy: EOF when it ends
	s.copies.Add(1)
	s.pending = append(s.pending, func() {
		go func() { defer s.copies.Done(); _, _ = io.Copy(w, pr); pr.Close() }()
	})
	return pw, nil
}

// started begins the copies once the agent holds its handles, and closes agentrun's ends of
// what the agent now has.
func (s *stdio) started(ctx context.Context) {
	if s.console != nil {
		s.stopTerm = appcontainer.RelayTerminal(ctx, s.console, s.in, s.out)
		return
	}
	for _, f := range s.pending {
		f()
	}
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
}

// drain waits for the agent's last output.
func (s *stdio) drain() {
	if s.stopTerm != nil {
		s.stopTerm()
		s.stopTerm = nil
	}
	s.copies.Wait()
}

func (s *stdio) close() {
	if s.stopTerm != nil {
		s.stopTerm()
	}
	for _, c := range s.closers {
		c.Close()
	}
}

// newRunID names the run in the ACL journal.
func newRunID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed: " + err.Error()))
	}
	return hex.EncodeToString(b)
}
