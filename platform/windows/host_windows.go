package windows

import (
	"fmt"

	"golang.org/x/sys/windows"

	"github.com/agentrun/agentrun/platform/windows/appcontainer"
)

// probeHost says what this Windows offers; containers are the AppContainer names whose
// loopback exemption to look up.
func probeHost(containers ...string) Host {
	v := windows.RtlGetVersion()
	h := Host{Windows: true, Version: fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)}
	if err := appcontainer.Available(); err != nil {
		h.Why = fmt.Sprintf("userenv.dll has no CreateAppContainerProfile (%v): AppContainers need Windows 8 / Server 2012 or later", err)
	} else {
		h.AppContainer = true
	}
	h.Admin = windows.GetCurrentProcessToken().IsElevated()
	exempt, err := loopbackExempt()
	if err != nil {
		h.ExemptWhy = err.Error()
		return h
	}
	h.Exempt = map[string]bool{}
	h.ExemptCount = len(exempt)
	for _, n := range containers {
		if sid, err := appcontainer.DeriveSID(n); err == nil && exempt[sid.String()] {
			h.Exempt[n] = true
		}
	}
	return h
}
