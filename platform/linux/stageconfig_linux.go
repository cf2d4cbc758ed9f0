package linux

import (
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/stage"
)

// newStageConfig is the stage's configuration for running spec's agent under rules.
func newStageConfig(spec *platform.Spec, tty bool, rules []stage.Rule, given layerSet) *stage.Config {
	return &stage.Config{
		Path:            spec.Path,
		Argv:            spec.Command,
		Env:             spec.Env,
		Dir:             spec.Dir,
		TTY:             tty,
		Landlock:        rules,
		RequireLandlock: !given[LayerLandlock],
	}
}
