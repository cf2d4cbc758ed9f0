package profiles

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Memory limits accepted by a profile.
const (
	minMemory = 16 << 20 // below this no agent starts; the cgroup would OOM-kill at once
	maxMemory = 1 << 50  // 1 PiB
	maxPids   = 4194304  // the kernel's PID_MAX_LIMIT
	maxCPU    = 1024
)

var memoryUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// parseMemory reads a size such as "8GiB", "512M" or a plain number of bytes.
func parseMemory(s Scalar) (int64, error) {
	v := strings.TrimSpace(s.Value)
	if s.Tag != "!!str" && s.Tag != "!!int" {
		return 0, fmt.Errorf("must be a size such as 8GiB or 512MiB, not %s", tagTypeNames[s.Tag])
	}
	for _, bad := range []string{"KB", "MB", "GB", "TB"} {
		if n := len(v) - len(bad); n >= 0 && strings.EqualFold(v[n:], bad) {
			return 0, fmt.Errorf("%q is ambiguous (1000 or 1024?); write a binary unit instead: %s", v, strings.TrimSpace(v[:n])+bad[:1]+"iB")
		}
	}
	mult := 1.0
	num := v
	for _, u := range memoryUnits {
		if strings.HasSuffix(v, u.suffix) {
			mult, num = u.mult, strings.TrimSpace(strings.TrimSuffix(v, u.suffix))
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(num, "eExX_") {
		return 0, fmt.Errorf("%q is not a size; write a number and a unit, such as 8GiB or 512MiB", v)
	}
	bytes := f * mult
	switch {
	case bytes < minMemory:
		return 0, fmt.Errorf("%q is too small for an agent to start; write at least 16MiB", v)
	case bytes > maxMemory:
		return 0, fmt.Errorf("%q is larger than 1024TiB; write a smaller limit or leave memory out for no limit", v)
	}
	return int64(bytes), nil
}

func parsePids(s Scalar) (int64, error) {
	if s.Tag == "!!str" {
		if _, err := strconv.ParseInt(s.Value, 10, 64); err == nil {
			return 0, fmt.Errorf("\"%s\" is in quotes, which makes it text; write the number without quotes: %s", s.Value, s.Value)
		}
	}
	if s.Tag != "!!int" {
		return 0, fmt.Errorf("must be a whole number of processes such as 4096, not %s", tagTypeNames[s.Tag])
	}
	n, err := strconv.ParseInt(s.Value, 0, 64)
	if err != nil || n < 1 || n > maxPids {
		return 0, fmt.Errorf("%s is out of range; write a number from 1 to %d", s.Value, maxPids)
	}
	return n, nil
}

// parseCPU reads a number of CPUs such as 2 or 0.5 and returns thousandths of a CPU.
func parseCPU(s Scalar) (int64, error) {
	if s.Tag == "!!str" {
		if _, err := strconv.ParseFloat(s.Value, 64); err == nil {
			return 0, fmt.Errorf("\"%s\" is in quotes, which makes it text; write the number without quotes: %s", s.Value, s.Value)
		}
		return 0, fmt.Errorf("%q is not a number; write a number of CPUs such as 2 or 0.5", s.Value)
	}
	if s.Tag != "!!int" && s.Tag != "!!float" {
		return 0, fmt.Errorf("must be a number of CPUs such as 2 or 0.5, not %s", tagTypeNames[s.Tag])
	}
	f, err := strconv.ParseFloat(s.Value, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > maxCPU {
		return 0, fmt.Errorf("%s is out of range; write a number of CPUs greater than 0 and at most %d", s.Value, maxCPU)
	}
	milli := math.Round(f * 1000)
	if milli < 10 {
		return 0, fmt.Errorf("%s is below the smallest CPU share; write at least 0.01", s.Value)
	}
	return int64(milli), nil
}
