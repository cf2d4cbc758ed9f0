package appcontainer

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/windows"
)

// Job Object messages on its completion port (winnt.h JOB_OBJECT_MSG_*).
const (
	jobMsgActiveProcessLimit = 3
	jobMsgProcessMemoryLimit = 9
	jobMsgJobMemoryLimit     = 10
)

// job is a Job Object holding the limits, killing its processes when closed, and the
// completion port that tells which limit was hit.
type job struct {
	handle, port windows.Handle

	mu  sync.Mutex
	hit string
}

func newJob(l Limits) (*job, error) {
	h, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("creating a Job Object: %w", err)
	}
	j := &job{handle: h}
	if err := j.configure(l); err != nil {
		j.close()
		return nil, err
	}
	return j, nil
}

func (j *job) configure(l Limits) error {
	var err error
	if j.port, err = windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1); err != nil {
		return fmt.Errorf("creating the Job Object's completion port: %w", err)
	}
	if err := setJobCompletionPort(j.handle, j.port); err != nil {
		return fmt.Errorf("associating the Job Object with its completion port: %w", err)
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if l.MemoryBytes > 0 {
		info.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_JOB_MEMORY
		info.JobMemoryLimit = uintptr(l.MemoryBytes)
	}
	if l.Processes > 0 {
		info.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_ACTIVE_PROCESS
		info.BasicLimitInformation.ActiveProcessLimit = uint32(l.Processes)
	}
	if err := setJobLimits(j.handle, &info); err != nil {
		return fmt.Errorf("setting the Job Object's limits (%+v): %w", l, err)
	}
	if rate := cpuRate(l.MilliCPU, runtime.NumCPU()); rate > 0 {
		if err := setJobCPURate(j.handle, rate); err != nil {
			return fmt.Errorf("capping the Job Object's CPU rate at %d millicpu: %w", l.MilliCPU, err)
		}
	}
	return nil
}

// limitHit reads the messages queued on the completion port without waiting and is the
// first limit they tell was hit, or "".
func (j *job) limitHit() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.port != 0 {
		var msg uint32
		var key uintptr
		var ov *windows.Overlapped
		if windows.GetQueuedCompletionStatus(j.port, &msg, &key, &ov, 0) != nil {
			break // WAIT_TIMEOUT: nothing more is queued
		}
		if j.hit != "" {
			continue
		}
		switch msg {
		case jobMsgJobMemoryLimit, jobMsgProcessMemoryLimit:
			j.hit = LimitMemory
		case jobMsgActiveProcessLimit:
			j.hit = LimitProcesses
		}
	}
	return j.hit
}

// activeProcesses is how many processes the job holds now; a console the process created
// (conhost.exe) is one of them.
func (j *job) activeProcesses() (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	info, err := queryJobAccounting(j.handle)
	if err != nil {
		return 0, fmt.Errorf("reading the Job Object's accounting: %w", err)
	}
	return int(info.ActiveProcesses), nil
}

func (j *job) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	if j.handle != 0 {
		errs = append(errs, windows.CloseHandle(j.handle))
		j.handle = 0
	}
	if j.port != 0 {
		errs = append(errs, windows.CloseHandle(j.port))
		j.port = 0
	}
	return errors.Join(errs...)
}
