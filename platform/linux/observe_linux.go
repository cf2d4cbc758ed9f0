package linux

import (
	"fmt"
	"net"
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/fileaudit"
	"github.com/agentrun/agentrun/profiles"
)

// observer is the fileaudit.Observer of a container, fed by the socket libcontainer hands the
// notification descriptor to.
type observer struct {
	*fileaudit.Observer
	closeL func()
}

// observe makes the filter report the gated calls, and with events the watched ones, to a
// socket at socketPath and starts listening there.
func observe(s *configs.Seccomp, socketPath string, pol *profiles.Policy, spec *platform.Spec, self string) (*observer, error) {
	o := fileaudit.Observe(s, pol, spec, self)
	s.ListenerPath = socketPath
	closeL, err := listenSeccomp(socketPath, o.Serve)
	if err != nil {
		return nil, err
	}
	return &observer{Observer: o, closeL: closeL}, nil
}

// started tells the observer the sandbox runs, with its PID 1 (the stage) at stagePid.
func (o *observer) started(stagePid int) error { return o.Started(stagePid) }

// Close stops listening, then observing, once the sandbox has ended.
func (o *observer) Close() {
	o.closeL()
	o.Observer.Close()
}

// listenSeccomp opens the unix socket libcontainer hands the notification descriptor to
// (configs.Seccomp.ListenerPath) and calls serve with it as soon as it comes: the container's
// init may already wait on a notification before libcontainer's Run returns.
func listenSeccomp(path string, serve func(*os.File)) (closeFn func(), err error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listening for the seccomp notification descriptor: %w", err)
	}
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		f, err := c.File()
		if err != nil {
			return
		}
		defer f.Close()
		if fd, err := recvFD(f); err == nil {
			serve(fd)
		}
	}()
	return func() {
		l.Close()
		os.Remove(path)
	}, nil
}
