package kubernetes

import (
	"sort"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
)

// noVolume are the trees a write root in which cannot be a volume: the container runtime
// makes them.
var noVolume = []string{"/dev", "/proc", "/sys"}

// writeRoots are the directories that get an emptyDir: each write rule's path (the part
// before its first wildcard), except the workspace's and those inside another.
func (c *compiler) writeRoots() (roots, skipped []string) {
	var all []string
	for _, r := range c.pol.Filesystem.Write {
		p := globFree(r.Path)
		if under(p, Workspace) {
			continue
		}
		if p == "/" || p == Home || func() bool {
			for _, d := range noVolume {
				if under(p, d) {
					return true
				}
			}
			return false
		}() {
			skipped = append(skipped, display.Escape(r.Path))
			continue
		}
		all = append(all, p)
	}
	sort.Strings(all)
	for _, p := range all {
		if len(roots) > 0 && under(p, roots[len(roots)-1]) {
			continue
		}
		roots = append(roots, p)
	}
	return roots, skipped
}

func (c *compiler) env() []envVar {
	env := []envVar{{"HOME", Home}}
	for _, s := range c.pol.Env.Set {
		if s.Name == "HOME" {
			env[0].Value = s.Value
			continue
		}
		env = append(env, envVar{s.Name, s.Value})
	}
	return env
}

// workload writes the Job or the Pod that runs the command.
func (c *compiler) workload(appArmorName string) {
	uid := c.o.UID
	sc := securityContext{
		RunAsNonRoot: true, RunAsUser: uid, RunAsGroup: uid,
		AllowPrivilegeEscalation: false, ReadOnlyRootFilesystem: true,
		Capabilities:   capabilities{Drop: []string{"ALL"}},
		SeccompProfile: localProfile{Type: "Localhost", LocalhostProfile: c.seccompFile()},
	}
	annotations := map[string]string(nil)
	if c.o.AppArmorAnnotation {
		annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/" + containerName: "localhost/" + appArmorName}
	} else {
		sc.AppArmorProfile = &localProfile{Type: "Localhost", LocalhostProfile: appArmorName}
	}
	ws := volume{Name: "workspace", EmptyDir: &emptyDir{}}
	if c.o.PVC != "" {
		ws = volume{Name: "workspace", PersistentVolumeClaim: &pvcSource{ClaimName: c.o.PVC}}
	}
	volumes := []volume{ws}
	mounts := []volumeMount{{Name: "workspace", MountPath: Workspace}}
	roots, skipped := c.writeRoots()
	var rootLines []string
	for i, p := range roots {
		n := "write-" + strconv.Itoa(i+1)
		volumes = append(volumes, volume{Name: n, EmptyDir: &emptyDir{}})
		mounts = append(mounts, volumeMount{Name: n, MountPath: p})
		rootLines = append(rootLines, "  "+n+": "+display.Escape(p))
	}
	lim := c.pol.Resources.With(profiles.DefaultLimits)
	res := resources{Limits: map[string]string{}}
	if lim.MemoryBytes > 0 {
		res.Limits["memory"] = quantityBytes(lim.MemoryBytes)
	}
	if lim.MilliCPU > 0 {
		res.Limits["cpu"] = quantityCPU(lim.MilliCPU)
	}
	if len(res.Limits) == 0 {
		res.Limits = nil
	}
	spec := podSpec{
		RestartPolicy:                "Never",
		AutomountServiceAccountToken: false,
		EnableServiceLinks:           false,
		SecurityContext:              podSecurityContext{RunAsNonRoot: true, RunAsUser: uid, RunAsGroup: uid, FSGroup: uid},
		Containers: []container{{
			Name: containerName, Image: c.o.Image, Command: c.o.Command, WorkingDir: Workspace,
			Env: c.env(), Resources: res, SecurityContext: sc, VolumeMounts: mounts,
		}},
		Volumes: volumes,
	}
	comments := []string{
		"The agent: uid " + strconv.FormatInt(uid, 10) + " (the image's user must own " + Home + ", or use --uid), no privilege escalation,",
		"no capability, a read-only root filesystem, no service-account token (a credential) and no",
		"service variables. Seccomp: the node file " + c.seccompFile() + "; AppArmor: the profile " + display.Escape(appArmorName) + ".",
		"Writable: the workspace " + Workspace + " (" + map[bool]string{true: "the claim " + c.o.PVC, false: "an emptyDir: gone with the pod; --pvc NAME keeps it"}[c.o.PVC != ""] + ") and the write roots:",
	}
	comments = append(comments, rootLines...)
	comments = append(comments, "An emptyDir is a directory: a write rule naming a file the agent writes needs its own volume.")
	if len(skipped) > 0 {
		comments = append(comments, "Write rules no volume can carry (left to the image): "+strings.Join(skipped, ", "))
	}
	if lim.Pids > 0 {
		comments = append(comments, "Not expressible per pod: pids "+strconv.FormatInt(lim.Pids, 10)+" (the kubelet's podPidsLimit sets it for every pod of a node).")
	}
	if len(c.pol.Env.Pass) > 0 {
		var names []string
		for _, p := range c.pol.Env.Pass {
			names = append(names, display.Escape(p))
		}
		comments = append(comments,
			"env.pass takes these from the caller's environment, which a cluster does not have; set the ones",
			"the agent needs yourself (keys from a Secret, with env[].valueFrom.secretKeyRef):",
		)
		comments = append(comments, wrap(names, 96)...)
	}
	meta := c.meta(c.name, true)
	var obj any
	if c.o.kind() == KindPod {
		meta.Annotations = annotations
		obj = pod{typeMeta: typeMeta{"v1", "Pod"}, Metadata: meta, Spec: spec}
	} else {
		obj = job{
			typeMeta: typeMeta{"batch/v1", "Job"},
			Metadata: meta,
			Spec: jobSpec{BackoffLimit: 0, Template: podTemplate{
				Metadata: objectMeta{Labels: c.labels, Annotations: annotations},
				Spec:     spec,
			}},
		}
	}
	c.doc(obj, comments...)
}

// wrap joins words into indented lines of at most width bytes.
func wrap(words []string, width int) []string {
	var lines []string
	line := " "
	for _, w := range words {
		if len(line)+1+len(w) > width && line != " " {
			lines = append(lines, line)
			line = " "
		}
		line += " " + w
	}
	return append(lines, line)
}
