package appcontainer

import "fmt"

// Limits are the Job Object's limits; 0 is none.
type Limits struct {
	MemoryBytes int64 // the committed memory of the whole job
	Processes   int64 // the processes alive at once in the job, the first one included
	MilliCPU    int64 // thousandths of one CPU, a hard cap on the whole job
}

// Limit names, as LimitHit gives them.
const (
	LimitMemory    = "memory"
	LimitProcesses = "processes"
)

// check refuses negative limits.
func (l Limits) check() error {
	for _, v := range []struct {
		name string
		n    int64
	}{{"memory", l.MemoryBytes}, {"processes", l.Processes}, {"CPU", l.MilliCPU}} {
		if v.n < 0 {
			return fmt.Errorf("the %s limit %d is negative: give 0 for none", v.name, v.n)
		}
	}
	if l.Processes > 1<<32-1 {
		return fmt.Errorf("the processes limit %d is above what a Job Object holds (%d)", l.Processes, uint32(1<<32-1))
	}
	return nil
}

// cpuRate is MilliCPU as a Job Object's CpuRate: the share of all of the machine's CPUs in
// hundredths of a percent (JOBOBJECT_CPU_RATE_CONTROL_INFORMATION), at least 1 and at most
// 10000. 0 means no cap: the limit is 0 or at least every CPU.
func cpuRate(milliCPU int64, cpus int) uint32 {
	if milliCPU <= 0 || cpus <= 0 || milliCPU >= int64(cpus)*1000 {
		return 0
	}
	return uint32(max(1, milliCPU*10/int64(cpus)))
}
