package kubernetes

import (
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
)

// spoSafePath is a path the Security Profiles Operator can paste into its AppArmor template
// as it is: it quotes nothing, so a path with AppArmor syntax in it (spaces, braces, commas,
// quotes) would change the profile. The policy's * and ** mean what AppArmor's do.
var spoSafePath = profiles.LazyRegexp(`^/[A-Za-z0-9._/+@~%*-]*$`)

// spoAppArmor writes the policy's allow lists as an AppArmorProfile of the Security Profiles
// Operator. Its abstract form has no deny rules: the node file (the backend's full profile)
// is the faithful one, this one an approximation for clusters that manage AppArmor only
// through the operator. Same name as the node file's profile, so the pod works with either.
func (c *compiler) spoAppArmor(name string) {
	if !dns1123Subdomain().MatchString(name) {
		c.note("no AppArmorProfile for the Security Profiles Operator: the AppArmor profile's name " + display.Escape(name) + " is not a Kubernetes name; use the node file")
		return
	}
	var skipped []string
	paths := func(rules []profiles.PathRule) []string {
		var out []string
		seen := map[string]bool{}
		for _, r := range rules {
			if !spoSafePath().MatchString(r.Path) {
				skipped = append(skipped, display.Escape(r.Path))
				continue
			}
			p := r.Path + "{,/**}" // the path and everything beneath, as the policy means it
			if strings.HasSuffix(r.Path, "/**") {
				p = r.Path
			} else if r.Path == "/" {
				p = "/**"
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		return out
	}
	fs := c.pol.Filesystem
	// Protect rules are not read rules: protecting never makes a path visible. Outside write
	// roots the allow list already keeps them unwritable; inside, nothing can say so here.
	ro := paths(fs.Read)
	rw := paths(fs.Write)
	ex := paths(c.pol.Exec.Allow)
	mode := "Enforce"
	if c.pol.Mode == profiles.ModeAudit {
		mode = "Complain"
	}
	spec := appArmorSpec{Mode: mode}
	if len(ro) > 0 || len(rw) > 0 {
		spec.Abstract.Filesystem = &appArmorFilesystem{ReadOnlyPaths: ro, ReadWritePaths: rw}
	}
	if len(ex) > 0 {
		spec.Abstract.Executable = &appArmorExec{AllowedExecutables: ex}
	}
	net := !c.pol.Network.None()
	// DNS is UDP: a profile with any network needs both.
	spec.Abstract.Network = &appArmorNetwork{AllowedProtocols: appArmorProtocols{AllowTCP: net, AllowUDP: net}}
	comments := []string{
		"The policy's allow lists for the Security Profiles Operator, which makes an AppArmor profile",
		"named " + name + " of them on every node (the name the pod asks for). Its abstract form",
		"cannot say deny rules: " + strconv.Itoa(len(fs.Deny)) + " deny, " + strconv.Itoa(len(c.pol.Exec.Deny)) + " exec.deny and " + strconv.Itoa(len(fs.Protect)) + " protect rules (inside write roots)",
		"hold only with the node file's full profile (the ConfigMap above). Prefer the node file.",
	}
	if len(skipped) > 0 {
		comments = append(comments, "Left out, as the operator would paste them into the profile unquoted:")
		for _, s := range skipped {
			comments = append(comments, "  "+s)
		}
	}
	c.doc(spoAppArmorProfile{
		typeMeta: typeMeta{"security-profiles-operator.x-k8s.io/v1alpha1", "AppArmorProfile"},
		Metadata: c.meta(name, false),
		Spec:     spec,
	}, comments...)
}
