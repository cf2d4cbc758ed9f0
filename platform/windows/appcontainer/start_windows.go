package appcontainer

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/windows"

	"github.com/agentrun/agentrun/platform/windows/cmdline"
)

// ExitKilled is the exit code Kill gives the job's processes: 137, what a shell shows for a
// process killed by SIGKILL on Linux, so that a killed run reads the same on both.
const ExitKilled uint32 = 137

// Options say what Start runs and how it is confined.
type Options struct {
	// Profile is the AppContainer; nil runs the process as this process's user, confined by
	// the Job Object alone (agentrun's audit mode), and then Capabilities and
	// LessPrivileged must be empty.
	Profile        *Profile
	Capabilities   []string // capability names: "internetClient", "privateNetworkClientServer", …
	LessPrivileged bool     // LPAC: not even what grants "ALL APPLICATION PACKAGES" is reachable

	Path string   // the program, a full path the container can read and execute
	Args []string // argv, Args[0] included; empty is just Path
	Env  []string // NAME=VALUE; nil is this process's environment
	Dir  string   // the working directory; "" is this process's

	Limits Limits // Processes counts a conhost.exe the child's console needs (see Start)

	// The standard handles when Console is nil (nil is the NUL device); the child inherits
	// these and no other handle. With a Console, the console is all three.
	Stdin, Stdout, Stderr *os.File
	Console               *Console
}

// Process is a process started by Start, with the Job Object that holds it and whatever it
// starts.
type Process struct {
	pid     int
	process windows.Handle
	job     *job
	console *Console

	closeOnce sync.Once
	closeErr  error
}

// Start starts o.Path in the AppContainer of o.Profile inside a new Job Object: created
// suspended, put in the job, then resumed.
func Start(o *Options) (*Process, error) {
	if o.Profile == nil && (len(o.Capabilities) > 0 || o.LessPrivileged) {
		return nil, errors.New("starting a process: capabilities or LPAC without an AppContainer profile (OpenProfile gives one)")
	}
	if o.Profile != nil && o.Profile.SID == nil {
		return nil, fmt.Errorf("starting a process in the AppContainer %s: its profile has no SID (OpenProfile gives one)", o.Profile.Name)
	}
	if o.Path == "" {
		return nil, errors.New("starting a process in an AppContainer: no program path")
	}
	if err := o.Limits.check(); err != nil {
		return nil, err
	}
	args := o.Args
	if len(args) == 0 {
		args = []string{o.Path}
	}
	line, err := cmdline.Join(args)
	if err != nil {
		return nil, fmt.Errorf("writing the command line of %s: %w", o.Path, err)
	}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	block, err := cmdline.EnvBlock(env)
	if err != nil {
		return nil, fmt.Errorf("writing the environment of %s: %w", o.Path, err)
	}
	caps, err := capabilitySIDs(o.Capabilities)
	if err != nil {
		return nil, err
	}

	j, err := newJob(o.Limits)
	if err != nil {
		return nil, err
	}
	p, err := start(o, j, line, block, caps)
	if err != nil {
		j.close()
		return nil, err
	}
	return p, nil
}

func start(o *Options, j *job, line string, block []uint16, caps []windows.SIDAndAttributes) (*Process, error) {
	si := new(windows.StartupInfoEx)
	flags := uint32(windows.CREATE_SUSPENDED | windows.EXTENDED_STARTUPINFO_PRESENT | windows.CREATE_UNICODE_ENVIRONMENT)
	var console windows.Handle
	var handles []windows.Handle
	if o.Console != nil {
		console = o.Console.hpc
		// Invalid standard handles, so that none of this process's redirected ones reaches
		// the child in place of the console's (as wezterm's portable-pty does).
		si.Flags |= windows.STARTF_USESTDHANDLES
		si.StdInput, si.StdOutput, si.StdErr = windows.InvalidHandle, windows.InvalidHandle, windows.InvalidHandle
	} else {
		flags |= windows.CREATE_NEW_PROCESS_GROUP // so that Interrupt's CTRL_BREAK_EVENT reaches only it
		if _, err := windows.GetConsoleCP(); err != nil {
			// This process has no console: the child gets a hidden one, which its own
			// console children share, rather than a window each. Its conhost.exe is in the
			// job and counts in Limits.Processes.
			flags |= windows.CREATE_NO_WINDOW
		}
		std, err := inheritable(o.Stdin, o.Stdout, o.Stderr)
		if err != nil {
			return nil, err
		}
		defer func() {
			for _, h := range std {
				windows.CloseHandle(h)
			}
		}()
		si.Flags |= windows.STARTF_USESTDHANDLES
		si.StdInput, si.StdOutput, si.StdErr = std[0], std[1], std[2]
		handles = std[:]
	}
	var sid *windows.SID
	where := "unconfined (no AppContainer)"
	if o.Profile != nil {
		sid, where = o.Profile.SID, "in the AppContainer "+o.Profile.Name
	}
	attrs, err := newAttributeList(sid, caps, o.LessPrivileged, console, handles)
	if err != nil {
		return nil, err
	}
	defer attrs.Delete()
	si.ProcThreadAttributeList = attrs.List()

	pi, err := createProcess(o.Path, line, len(handles) > 0, flags, block, o.Dir, si)
	if err != nil {
		return nil, fmt.Errorf("starting %s %s: %w", o.Path, where, err)
	}
	defer windows.CloseHandle(pi.Thread)
	if err := windows.AssignProcessToJobObject(j.handle, pi.Process); err != nil {
		windows.TerminateProcess(pi.Process, ExitKilled)
		windows.CloseHandle(pi.Process)
		return nil, fmt.Errorf("putting %s in its Job Object: %w", o.Path, err)
	}
	if _, err := windows.ResumeThread(pi.Thread); err != nil {
		windows.TerminateJobObject(j.handle, ExitKilled)
		windows.CloseHandle(pi.Process)
		return nil, fmt.Errorf("resuming %s: %w", o.Path, err)
	}
	return &Process{pid: int(pi.ProcessId), process: pi.Process, job: j, console: o.Console}, nil
}

// inheritable are inheritable duplicates of the three standard handles, the NUL device for
// a nil file (as os/exec gives), for the child to inherit through the handle list. The
// caller closes them.
func inheritable(files ...*os.File) (hs [3]windows.Handle, err error) {
	self := windows.CurrentProcess()
	for i, f := range files {
		if f == nil {
			nul, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return hs, err
			}
			defer nul.Close()
			f = nul
		}
		if err = windows.DuplicateHandle(self, windows.Handle(f.Fd()), self, &hs[i], 0, true, windows.DUPLICATE_SAME_ACCESS); err != nil {
			for _, h := range hs[:i] {
				windows.CloseHandle(h)
			}
			return hs, fmt.Errorf("duplicating the standard handle %s for the child: %w", f.Name(), err)
		}
	}
	return hs, nil
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.pid }

// Wait waits for the process to exit and is its exit code as Windows gives it (an NTSTATUS
// such as 0xC0000005 when it crashed). Processes it started may live on in the job until
// Kill or Close.
func (p *Process) Wait() (uint32, error) {
	if _, err := windows.WaitForSingleObject(p.process, windows.INFINITE); err != nil {
		return 0, fmt.Errorf("waiting for process %d: %w", p.pid, err)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(p.process, &code); err != nil {
		return 0, fmt.Errorf("reading the exit code of process %d: %w", p.pid, err)
	}
	return code, nil
}

// Interrupt is Ctrl-C: written to the console's input when the process has one (the
// console turns it into CTRL_C_EVENT), else CTRL_BREAK_EVENT to its process group, which
// reaches it only when it shares this process's console.
func (p *Process) Interrupt() error {
	if p.console != nil {
		if _, err := p.console.in.Write([]byte{0x03}); err != nil {
			return fmt.Errorf("writing Ctrl-C to the console of process %d: %w", p.pid, err)
		}
		return nil
	}
	if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(p.pid)); err != nil {
		return fmt.Errorf("sending Ctrl-Break to process %d: %w", p.pid, err)
	}
	return nil
}

// Kill ends every process of the job (TerminateJobObject) with ExitKilled.
func (p *Process) Kill() error {
	p.job.mu.Lock()
	defer p.job.mu.Unlock()
	if p.job.handle == 0 {
		return fmt.Errorf("killing process %d: its job is closed", p.pid)
	}
	if err := windows.TerminateJobObject(p.job.handle, ExitKilled); err != nil {
		return fmt.Errorf("killing the job of process %d: %w", p.pid, err)
	}
	return nil
}

// LimitHit is "" or which of the job's limits was hit, LimitMemory or LimitProcesses (the
// first the job reported).
func (p *Process) LimitHit() string { return p.job.limitHit() }

// Close closes the job, which ends whatever still runs in it, and the process's handle.
// The Console is the caller's to close.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		p.job.limitHit() // keep what the port told before it closes
		p.closeErr = errors.Join(p.job.close(), windows.CloseHandle(p.process))
	})
	return p.closeErr
}
