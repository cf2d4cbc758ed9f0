package linux

import (
	"fmt"

	"github.com/agentrun/agentrun/platform/linux/fileaudit"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/platform/linux/stage"
)

// newStageConfig is the stage's configuration for running spec's agent under rules, with the
// seccomp filter of filter unless --allow-degraded gave seccomp up. On amd64 the filter's
// program is taken from the table built with agentrun; elsewhere libseccomp compiles it here.
func newStageConfig(spec *platform.Spec, tty bool, rules []stage.Rule, filter seccompfilter.Spec, given layerSet) (*stage.Config, error) {
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
		p, err := seccompfilter.Compile(filter)
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
