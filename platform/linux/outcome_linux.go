package linux

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"

	"github.com/agentrun/agentrun/platform"
)

// The tiers an Outcome names.
const (
	tierNamespaces = "namespaces"
	tierDirect     = "landlock+seccomp"
)

// outcomeOf is where a run records its outcome: the spec's, or one nobody reads.
func outcomeOf(spec *platform.Spec) *platform.Outcome {
	if spec.Outcome != nil {
		return spec.Outcome
	}
	return &platform.Outcome{}
}

// recordLaunch notes the run's tier and its layers, those --allow-degraded gave up as not
// available.
func recordLaunch(out *platform.Outcome, layers []Layer, d degrade) {
	out.Tier = tierNamespaces
	if d.Direct {
		out.Tier = tierDirect
	}
	out.Layers = out.Layers[:0]
	for _, l := range layers {
		pl := toPlatformLayer(l)
		if d.Given[l.ID] {
			pl.Available = false
		}
		out.Layers = append(out.Layers, pl)
	}
}

func toPlatformLayer(l Layer) platform.Layer {
	return platform.Layer{Name: l.ID.String(), Enforces: l.Enforces, Needed: l.Needed, Available: l.Available, Fix: l.Fix, Degraded: l.Degraded, Records: l.Records}
}

// usage reads what the run's cgroup measured, before it is removed: the peaks of memory and
// of the number of processes, and the CPU time. c may be nil (no cgroup).
func (c *runCgroup) usage() platform.Usage {
	if c == nil {
		return platform.Usage{UnknownWhy: "the run had no cgroup: agentrun runs rootless without a delegated cgroup v2 (agentrun doctor explains)"}
	}
	var u platform.Usage
	var missing []string
	read := func(dst **int64, what string, files ...string) {
		for _, f := range files {
			if v, ok := readCgroupValue(f); ok {
				*dst = &v
				return
			}
		}
		missing = append(missing, what)
	}
	if cgroups.IsCgroup2UnifiedMode() {
		dir := c.dirs[0]
		read(&u.MemoryPeakBytes, "memory peak (memory.peak: Linux 5.19+, memory controller)", filepath.Join(dir, "memory.peak"))
		read(&u.PidsPeak, "pids peak (pids.peak: Linux 6.1+, pids controller)", filepath.Join(dir, "pids.peak"))
		read(&u.CPUMicros, "CPU time (cpu.stat)", filepath.Join(dir, "cpu.stat")+":usage_usec")
	} else {
		var mem, cpu string
		for _, d := range c.dirs {
			switch {
			case strings.Contains(d, "/memory/"):
				mem = d
			case strings.Contains(d, "/cpu"):
				cpu = d
			}
		}
		read(&u.MemoryPeakBytes, "memory peak (no v1 memory hierarchy)", filepath.Join(mem, "memory.max_usage_in_bytes"))
		missing = append(missing, "pids peak (cgroup v1 keeps none)")
		if v, ok := readCgroupValue(filepath.Join(cpu, "cpuacct.usage")); ok && cpu != "" {
			v /= 1000 // nanoseconds
			u.CPUMicros = &v
		} else {
			missing = append(missing, "CPU time (no v1 cpuacct in the cpu hierarchy)")
		}
	}
	if len(missing) > 0 {
		u.UnknownWhy = "not measured: " + strings.Join(missing, "; ")
	}
	return u
}

// readCgroupValue reads one number from a cgroup file; "FILE:KEY" reads KEY's value from a
// flat keyed file such as cpu.stat.
func readCgroupValue(spec string) (int64, bool) {
	path, key, keyed := strings.Cut(spec, ":")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	text := strings.TrimSpace(string(b))
	if keyed {
		text = ""
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, " "); ok && k == key {
				text = v
			}
		}
	}
	v, err := strconv.ParseInt(text, 10, 64)
	return v, err == nil
}
