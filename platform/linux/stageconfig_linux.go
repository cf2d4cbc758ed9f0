package linux

import (
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter"
	"github.com/agentrun/agentrun/platform/linux/stage"
)

// newStageConfig is the stage's configuration for running spec's agent under rules, with the
// seccomp filter of filter unless --allow-degraded gave seccomp up.
func newStageConfig(spec *platform.Spec, tty bool, rules []stage.Rule, filter seccompfilter.Spec, given layerSet) *stage.Config {
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
		c.Seccomp = &filter
	}
	return c
}
