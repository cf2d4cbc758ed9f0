package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/kubernetes"
	"github.com/agentrun/agentrun/profiles"
)

// targetKubernetes is the compile target that writes Kubernetes objects. It is not one of the
// backend's targets: it takes a command and flags of its own, resolves the profile for the
// container's paths, and ships what the backend's seccomp and apparmor targets compile.
const targetKubernetes = "kubernetes"

var kubernetesFlags = []cli.Flag{
	&cli.StringFlag{Name: "image", Usage: "kubernetes: the container `IMAGE` that has the command and its tools"},
	&cli.StringFlag{Name: "namespace", Usage: "kubernetes: the `NAMESPACE` of the objects (default: kubectl's)"},
	&cli.StringFlag{Name: "kind", Value: kubernetes.KindJob, Usage: "kubernetes: run the command in a `job` or a pod"},
	&cli.StringFlag{Name: "pvc", Usage: "kubernetes: a PersistentVolumeClaim `NAME` for the workspace (default: an emptyDir)"},
	&cli.BoolFlag{Name: "apparmor-annotation", Usage: "kubernetes: the AppArmor annotation of clusters before 1.30 instead of the securityContext field"},
	&cli.Int64Flag{Name: "uid", Value: kubernetes.DefaultUID, Usage: "kubernetes: the `UID` (and gid) the agent runs as"},
}

// compileKubernetes writes the objects of agentrun compile --target kubernetes PROFILE -- CMD
// ARGS to stdout, and what they cannot enforce to stderr.
func compileKubernetes(c *cli.Context, b platform.Backend) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usageError("agentrun compile --target kubernetes PROFILE --image IMG -- CMD ARGS", "no profile named")
	}
	command := args[1:]
	if len(command) > 0 && command[0] == "--" {
		command = command[1:]
	} else if len(command) > 0 && strings.HasPrefix(command[0], "-") {
		return usageError("put agentrun's flags before the profile and the command after --: agentrun compile --target kubernetes --image IMG PROFILE -- CMD ARGS", "flag %s after the profile name", display.Escape(command[0]))
	}
	o := kubernetes.Options{
		Command: command, Image: c.String("image"), Namespace: c.String("namespace"), Kind: c.String("kind"),
		PVC: c.String("pvc"), AppArmorAnnotation: c.Bool("apparmor-annotation"), UID: c.Int64("uid"),
	}
	if err := o.Check(); err != nil {
		var oe *kubernetes.OptionError
		if errors.As(err, &oe) {
			return usageError(oe.Fix, "%s", oe.Msg)
		}
		return err
	}
	pol, err := profileFor(args[0], kubernetes.Env())
	if err != nil {
		return err
	}
	m, err := kubernetesMechanisms(b, pol)
	if err != nil {
		return err
	}
	res, err := kubernetes.Compile(pol, m, o)
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintf(c.App.ErrWriter, "agentrun: note: %s\n", n)
	}
	_, err = c.App.Writer.Write(res.YAML)
	return err
}

// kubernetesMechanisms compiles pol with the backend's seccomp and apparmor targets.
func kubernetesMechanisms(b platform.Backend, pol *profiles.Policy) (kubernetes.Mechanisms, error) {
	var m kubernetes.Mechanisms
	compile := func(name string) ([]byte, error) {
		for _, t := range b.Targets() {
			if t.Name == name {
				return t.Compile(pol)
			}
		}
		return nil, usageError("compile on Linux, where agentrun has the seccomp and AppArmor compilers", "this build of agentrun has no %s compiler, which the Kubernetes objects need", name)
	}
	var err error
	if m.Seccomp, err = compile("seccomp"); err != nil {
		return m, err
	}
	if m.AppArmor, err = compile("apparmor"); err != nil {
		return m, err
	}
	m.AppArmorName = appArmorName(m.AppArmor)
	if m.AppArmorName == "" {
		return m, fmt.Errorf("finding the profile's name in the compiled AppArmor profile: no \"profile NAME\" line")
	}
	return m, nil
}

// appArmorName is the NAME of the first "profile NAME" line of an AppArmor profile.
func appArmorName(text []byte) string {
	for _, l := range strings.Split(string(text), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "profile" {
			return f[1]
		}
	}
	return ""
}
