package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
)

// eperm is the errno a notified call gets on the cluster.
const eperm = 1

// kernelOnly reads the Linux backend's filter, strictly (a field this package does not know
// would otherwise be dropped unseen), and makes every rule that would wait for agentrun's
// notifier an EPERM rule: on the cluster nobody answers a notification. It returns the names
// of the calls it changed.
func kernelOnly(oci []byte) (*seccompSpec, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(oci))
	dec.DisallowUnknownFields()
	var s seccompSpec
	if err := dec.Decode(&s); err != nil {
		return nil, nil, fmt.Errorf("reading the compiled seccomp filter: %w", err)
	}
	if s.DefaultAction == "" {
		return nil, nil, fmt.Errorf("reading the compiled seccomp filter: no defaultAction")
	}
	seen := map[string]bool{}
	var notified []string
	for i := range s.Syscalls {
		sc := &s.Syscalls[i]
		if sc.Action != "SCMP_ACT_NOTIFY" {
			continue
		}
		errno := uint(eperm)
		sc.Action, sc.ErrnoRet = "SCMP_ACT_ERRNO", &errno
		for _, n := range sc.Names {
			if !seen[n] {
				seen[n] = true
				notified = append(notified, n)
			}
		}
	}
	sort.Strings(notified)
	return &s, notified, nil
}

func marshalSeccomp(s *seccompSpec) (string, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("writing the seccomp filter: %w", err)
	}
	return string(b) + "\n", nil
}

// seccompFile is the filter's path under the kubelet's seccomp root.
func (c *compiler) seccompFile() string { return SeccompDir + "/" + c.name + ".json" }

func (c *compiler) seccompComments(notified []string) []string {
	lines := []string{
		"The seccomp filter is kernel-only: agentrun's own filter also has rules that notify agentrun,",
		"which answers them (the unix-socket gate, file events); on a cluster nobody would answer.",
	}
	if len(notified) > 0 {
		lines = append(lines, "Those rules are EPERM rules here: "+strings.Join(notified, ", ")+".")
	} else {
		lines = append(lines, "This filter has none: it is the same as agentrun's enforce-mode deny list.")
	}
	return append(lines,
		"A masked comparison (SCMP_CMP_MASKED_EQ) carries the mask in value and the datum in valueTwo.",
		"Architectures: "+runtime.GOARCH+" (where this was compiled); compile on a node of each other architecture.",
	)
}

// nodeFiles writes the ConfigMap that holds the two profiles as the nodes' files.
func (c *compiler) nodeFiles(filterJSON string, m Mechanisms, notified []string) {
	cm := configMap{
		typeMeta: typeMeta{"v1", "ConfigMap"},
		Metadata: c.meta(c.name+"-node-profiles", true),
		Data: map[string]string{
			"seccomp.json": filterJSON,
			"apparmor":     string(m.AppArmor),
		},
	}
	c.doc(cm, append([]string{
		"The node files, without the Security Profiles Operator. On every node that may run the agent:",
		"  seccomp.json -> /var/lib/kubelet/seccomp/" + c.seccompFile(),
		"  apparmor     -> /etc/apparmor.d/" + m.AppArmorName + ", then: apparmor_parser -r /etc/apparmor.d/" + m.AppArmorName,
		"kubectl get configmap " + c.name + "-node-profiles -o jsonpath='{.data.seccomp\\.json}' prints one.",
		"",
	}, c.seccompComments(notified)...)...)
}

// spoSeccomp writes the filter as a SeccompProfile, for clusters that run the Security
// Profiles Operator; it installs it on every node as operator/NAME.json.
func (c *compiler) spoSeccomp(filter *seccompSpec, notified []string) {
	c.doc(spoSeccompProfile{
		typeMeta: typeMeta{"security-profiles-operator.x-k8s.io/v1beta1", "SeccompProfile"},
		Metadata: c.meta(c.name, false),
		Spec:     *filter,
	}, append([]string{
		"The same filter for the Security Profiles Operator, which writes it on every node as",
		"/var/lib/kubelet/seccomp/operator/" + c.name + ".json: with the operator, set the pod's",
		"seccompProfile.localhostProfile to operator/" + c.name + ".json.",
	}, c.seccompComments(notified)...)...)
}
