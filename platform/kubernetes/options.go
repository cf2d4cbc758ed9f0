package kubernetes

import (
	"fmt"

	"github.com/agentrun/agentrun/profiles"
)

// The paths the policy is compiled for inside the container, whatever the host's: the
// workspace volume's mount point and the home directory of the image's user.
const (
	Workspace = "/workspace"
	Home      = "/home/agent"
	TmpDir    = "/tmp"
)

// DefaultUID is the user (and group) the agent runs as: the first user of most images
// (node's "node", the "agent" user of Home). runAsNonRoot needs a numeric uid that is not 0.
const DefaultUID = 1000

// Env is what the policy's path variables expand to in the container: no host path leaks into
// the objects, and no path is canonicalised against this host.
func Env() profiles.Env {
	return profiles.Env{
		Home:       Home,
		Workspace:  Workspace,
		TmpDir:     TmpDir,
		ConfigHome: Home + "/.config",
		DataHome:   Home + "/.local/share",
		StateHome:  Home + "/.local/state",
		CacheHome:  Home + "/.cache",
	}
}

// Kinds of workload the command runs in.
const (
	KindJob = "job"
	KindPod = "pod"
)

// Options are what the objects need beyond the policy.
type Options struct {
	Command   []string // the container's command and arguments
	Image     string   // the container image, with the agent and its tools in it
	Namespace string   // empty: the namespace kubectl applies to
	Kind      string   // KindJob (default) or KindPod
	PVC       string   // a PersistentVolumeClaim for the workspace; empty: an emptyDir
	// AppArmorAnnotation writes the AppArmor profile as the annotation clusters before 1.30
	// read, instead of the securityContext field.
	AppArmorAnnotation bool
	UID                int64 // the agent's uid and gid (DefaultUID unless the image's user differs)
}

// OptionError is an option the objects cannot be made with, and how to fix it.
type OptionError struct {
	Msg string
	Fix string
}

func (e *OptionError) Error() string { return e.Msg + " (" + e.Fix + ")" }

// dns1123Label is a Kubernetes name that must be a DNS label (namespaces).
var dns1123Label = profiles.LazyRegexp(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// dns1123Subdomain is a Kubernetes object name (a PersistentVolumeClaim's).
var dns1123Subdomain = profiles.LazyRegexp(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// Check says what is missing or malformed in o.
func (o Options) Check() error {
	switch {
	case o.Image == "":
		return &OptionError{"no container image", "name one with --image IMG: an image that has the command and its tools, e.g. --image node:22"}
	case len(o.Command) == 0 || o.Command[0] == "":
		return &OptionError{"no command to run", "put it after --, e.g. agentrun compile --target kubernetes claude --image IMG -- claude -p 'fix the tests'"}
	case o.Kind != "" && o.Kind != KindJob && o.Kind != KindPod:
		return &OptionError{fmt.Sprintf("unknown kind %q", o.Kind), "use --kind job or --kind pod"}
	case o.Namespace != "" && !dns1123Label().MatchString(o.Namespace):
		return &OptionError{fmt.Sprintf("namespace %q is not a Kubernetes name", o.Namespace), "use lowercase letters, digits and '-', at most 63"}
	case o.PVC != "" && !dns1123Subdomain().MatchString(o.PVC):
		return &OptionError{fmt.Sprintf("claim %q is not a Kubernetes name", o.PVC), "name an existing PersistentVolumeClaim: lowercase letters, digits, '-' and '.'"}
	case o.UID <= 0 || o.UID > 1<<31-1:
		return &OptionError{fmt.Sprintf("uid %d is out of range", o.UID), "use a uid from 1 to 2147483647 (runAsNonRoot refuses 0)"}
	}
	return nil
}

func (o Options) kind() string {
	if o.Kind == "" {
		return KindJob
	}
	return o.Kind
}
