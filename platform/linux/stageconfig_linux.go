package linux

import (
	"fmt"

	"github.com/agentrun/agentrun/platform/linux/fileaudit"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/platform/linux/stage"
)

// newStageConfig is the stage's configuration for running spec's agent under rules, with the
// seccomp filter of filter, compiled by compile, unless --allow-degraded gave seccomp up.
func newStageConfig(spec *platform.Spec, tty bool, rules []stage.Rule, filter seccompfilter.Spec, compile func(seccompfilter.Spec) (*seccompfilter.Program, error), given layerSet) (*stage.Config, error) {
	c := &stage.Config{
		Path:            spec.Path,
		Argv:            spec.Command,
		Env:             spec.Env,
		Dir:             spec.Dir,
		TTY:             tty,
		Landlock:        rules,
		RequireLandlock: !given[LayerLandlock],
	}
	if !given[LayerSeccomp] {
		p, err := compile(filter)
		if err != nil {
			return nil, fmt.Errorf("setting up the seccomp layer: %w", err)
		}
		c.Seccomp = p
	}
	return c, nil
}

// namespaceFilter is the filter spec of the namespace tier for a run observed in scope.
func namespaceFilter(scope fileaudit.Scope) seccompfilter.Spec {
	return seccompfilter.Spec{Report: scope.Report()}
}

// earlyFilter is a filter compiled in the background while the run is planned, for the spec
// the run will most likely ask for: ≈ 1–2 ms of libseccomp where agentrun compiles its filters
// when it runs; on amd64, whose filters are compiled when agentrun is built, a table lookup.
type earlyFilter struct {
	spec seccompfilter.Spec
	done chan struct{}
	prog *seccompfilter.Program
	err  error
}

// compileEarly starts compiling the filter of spec.
func compileEarly(spec seccompfilter.Spec) *earlyFilter {
	e := &earlyFilter{spec: spec, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.prog, e.err = seccompfilter.Compile(spec)
	}()
	return e
}

// compile is the filter of spec: the early one when it was compiled for spec, else compiled now.
func (e *earlyFilter) compile(spec seccompfilter.Spec) (*seccompfilter.Program, error) {
	if e == nil || e.spec != spec {
		return seccompfilter.Compile(spec)
	}
	<-e.done
	return e.prog, e.err
}
