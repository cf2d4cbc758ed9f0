package windows

import (
	"fmt"
	"io"
	"strings"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// Host is what a Windows machine offers agentrun, as doctor reports it and Layers decides
// from it.
type Host struct {
	Windows      bool   // this is Windows (elsewhere the backend only says what it would do)
	Version      string // e.g. "10.0.22631"
	AppContainer bool   // userenv.dll has CreateAppContainerProfile (Windows 8 and later)
	Why          string // why AppContainer is not available
	Admin        bool   // this process is elevated: it may exempt containers from loopback isolation
	// Exempt holds the AppContainer names asked about (agentrun's) that are exempt from
	// loopback isolation: their agents can reach agentrun's proxy. Nil when the list could not
	// be read (ExemptWhy).
	Exempt      map[string]bool
	ExemptCount int // containers on the list, agentrun's or not
	ExemptWhy   string
}

// Layer names on Windows.
const (
	LayerAppContainer = "appcontainer"
	LayerJob          = "job object"
	LayerEgress       = "egress proxy"
	LayerExec         = "exec"
)

// SetupFix is how a machine's administrator lets the agents of agentrun's containers reach
// agentrun's proxy.
const SetupFix = "run `agentrun setup` once from an administrator prompt (it exempts agentrun's containers from loopback isolation, so that their agents reach agentrun's proxy on 127.0.0.1)"

// layersFor lists the mechanisms pol is compiled to on h.
func layersFor(pol *profiles.Policy, h Host) []platform.Layer {
	fix := h.Why
	if fix == "" {
		fix = "AppContainers need Windows 8 / Server 2012 or later"
	}
	audit := pol.Mode == profiles.ModeAudit
	name := containerName(pol.Name)
	layers := []platform.Layer{
		{Name: LayerAppContainer, Enforces: "files: only the profile's read and write roots, granted to the container for the run; no network but agentrun's proxy; no other process's windows, pipes or objects",
			Needed: !audit, Available: h.AppContainer, Fix: fix},
		{Name: LayerExec, Enforces: "programs in the write roots do not run unless exec.allow names them (their grants leave out execute); which installed programs run is AppLocker's or App Control's (agentrun compile --target applocker|wdac)",
			Needed: !audit, Available: h.AppContainer, Fix: fix},
		{Name: LayerJob, Enforces: "memory, process and CPU limits; the whole tree ends with the run", Needed: true, Available: h.Windows, Fix: "Job Objects exist on every Windows"},
	}
	egress := platform.Layer{Name: LayerEgress, Enforces: "network only through agentrun's proxy, which applies the policy's names and ports; cloud metadata never",
		Needed: !pol.Network.None(), Available: h.Windows && (audit || h.Admin || h.Exempt[name]), Fix: SetupFix,
		Degraded: "runs with no network at all"}
	if audit {
		egress.Enforces = "records the flows of the agent's tools that use the proxy variables (audit mode: the agent runs outside a container and may connect directly)"
	}
	layers = append(layers, egress, platform.Layer{Name: platform.LayerFileEvents,
		Enforces: "file and exec accesses as events", Needed: true, Records: true, Available: false,
		Fix: "Windows reports no refused access to agentrun: the agent sees ACCESS_DENIED, agentrun records network flows only; audit mode shows nothing of files either"})
	return layers
}

// writeDoctor writes what h offers agentrun.
func writeDoctor(w io.Writer, h Host) error {
	var b strings.Builder
	b.WriteString("agentrun doctor\n  windows: AppContainer backend\n")
	line := func(format string, args ...any) { fmt.Fprintf(&b, "  "+format+"\n", args...) }
	if !h.Windows {
		line("this is not Windows: the backend only plans here (agentrun --dry-run), it runs nothing")
	} else {
		line("Windows %s", h.Version)
	}
	if h.AppContainer {
		line("AppContainer: available; each profile's agents run in the container agentrun.PROFILE")
	} else {
		line("AppContainer: unavailable (%s): agentrun -- CMD refuses to run in enforce mode", h.Why)
	}
	switch {
	case h.Admin:
		line("administrator: yes: a run exempts its container from loopback isolation itself when its profile allows network")
	case h.Exempt == nil:
		line("loopback exemptions: unknown (%s); a profile with network needs its container exempt: %s", h.ExemptWhy, SetupFix)
	default:
		names := make([]string, 0, len(h.Exempt))
		for n := range h.Exempt {
			names = append(names, n)
		}
		if len(names) == 0 {
			line("loopback exemptions: none of agentrun's built-in profiles' containers (%d containers in all): a profile with network fails; %s", h.ExemptCount, SetupFix)
		} else {
			line("loopback exemptions: %s (%d containers in all)", strings.Join(sortedNames(names), ", "), h.ExemptCount)
		}
	}
	line("less privileged AppContainer (LPAC): off; %s=1 turns it on (the container then loses what ALL APPLICATION PACKAGES may read)", LPACEnv)
	line("limits: a Job Object per run (memory, processes, CPU), the tree killed with it")
	line("file events: none: Windows reports no refused access to agentrun (network flows are recorded)")
	line("exec: programs in write roots run only where exec.allow says; for installed programs deploy agentrun compile --target applocker or --target wdac")
	_, err := io.WriteString(w, b.String())
	return err
}
