package kubernetes

// The objects are built from small local types carrying only the fields agentrun writes, with
// the field names of the Kubernetes, Cilium and Security Profiles Operator APIs: the official
// Go types would triple the size of the agentrun binary for a few fields (see
// docs/decisions.md). The tests decode every object strictly into the official types, and
// check the custom resources against their CRDs' schemas, so a misspelt field fails there.

type objectMeta struct {
	Name        string            `yaml:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type typeMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

type job struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     jobSpec    `yaml:"spec"`
}

type jobSpec struct {
	BackoffLimit int32       `yaml:"backoffLimit"`
	Template     podTemplate `yaml:"template"`
}

type podTemplate struct {
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type pod struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy                string             `yaml:"restartPolicy"`
	AutomountServiceAccountToken bool               `yaml:"automountServiceAccountToken"`
	EnableServiceLinks           bool               `yaml:"enableServiceLinks"`
	SecurityContext              podSecurityContext `yaml:"securityContext"`
	Containers                   []container        `yaml:"containers"`
	Volumes                      []volume           `yaml:"volumes"`
}

type podSecurityContext struct {
	RunAsNonRoot bool  `yaml:"runAsNonRoot"`
	RunAsUser    int64 `yaml:"runAsUser"`
	RunAsGroup   int64 `yaml:"runAsGroup"`
	FSGroup      int64 `yaml:"fsGroup"`
}

type container struct {
	Name            string          `yaml:"name"`
	Image           string          `yaml:"image"`
	Command         []string        `yaml:"command"`
	WorkingDir      string          `yaml:"workingDir"`
	Env             []envVar        `yaml:"env,omitempty"`
	Resources       resources       `yaml:"resources,omitempty"`
	SecurityContext securityContext `yaml:"securityContext"`
	VolumeMounts    []volumeMount   `yaml:"volumeMounts"`
}

type envVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type resources struct {
	Limits map[string]string `yaml:"limits,omitempty"`
}

type securityContext struct {
	RunAsNonRoot             bool          `yaml:"runAsNonRoot"`
	RunAsUser                int64         `yaml:"runAsUser"`
	RunAsGroup               int64         `yaml:"runAsGroup"`
	Privileged               bool          `yaml:"privileged"`
	AllowPrivilegeEscalation bool          `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool          `yaml:"readOnlyRootFilesystem"`
	Capabilities             capabilities  `yaml:"capabilities"`
	SeccompProfile           localProfile  `yaml:"seccompProfile"`
	AppArmorProfile          *localProfile `yaml:"appArmorProfile,omitempty"`
}

type capabilities struct {
	Drop []string `yaml:"drop"`
}

type localProfile struct {
	Type             string `yaml:"type"`
	LocalhostProfile string `yaml:"localhostProfile"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
}

type volume struct {
	Name                  string     `yaml:"name"`
	EmptyDir              *emptyDir  `yaml:"emptyDir,omitempty"`
	PersistentVolumeClaim *pvcSource `yaml:"persistentVolumeClaim,omitempty"`
}

type emptyDir struct{}

type pvcSource struct {
	ClaimName string `yaml:"claimName"`
}

type configMap struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta        `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
}

// NetworkPolicy (networking.k8s.io/v1).

type networkPolicy struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta        `yaml:"metadata"`
	Spec     networkPolicySpec `yaml:"spec"`
}

type networkPolicySpec struct {
	PodSelector labelSelector      `yaml:"podSelector"`
	PolicyTypes []string           `yaml:"policyTypes"`
	Egress      []netpolEgressRule `yaml:"egress"`
}

type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type netpolEgressRule struct {
	To    []netpolPeer `yaml:"to,omitempty"`
	Ports []netpolPort `yaml:"ports,omitempty"`
}

type netpolPeer struct {
	NamespaceSelector *labelSelector `yaml:"namespaceSelector,omitempty"`
	PodSelector       *labelSelector `yaml:"podSelector,omitempty"`
	IPBlock           *ipBlock       `yaml:"ipBlock,omitempty"`
}

type ipBlock struct {
	CIDR   string   `yaml:"cidr"`
	Except []string `yaml:"except,omitempty"`
}

type netpolPort struct {
	Protocol string `yaml:"protocol"`
	Port     int32  `yaml:"port"`
	EndPort  int32  `yaml:"endPort,omitempty"`
}

// CiliumNetworkPolicy (cilium.io/v2).

type ciliumPolicy struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta       `yaml:"metadata"`
	Spec     ciliumPolicySpec `yaml:"spec"`
}

type ciliumPolicySpec struct {
	Description       string             `yaml:"description"`
	EndpointSelector  labelSelector      `yaml:"endpointSelector"`
	EnableDefaultDeny ciliumDefaultDeny  `yaml:"enableDefaultDeny"`
	Egress            []ciliumEgressRule `yaml:"egress,omitempty"`
	EgressDeny        []ciliumEgressRule `yaml:"egressDeny"`
}

type ciliumDefaultDeny struct {
	Egress bool `yaml:"egress"`
}

type ciliumEgressRule struct {
	ToEndpoints []labelSelector  `yaml:"toEndpoints,omitempty"`
	ToFQDNs     []fqdnSelector   `yaml:"toFQDNs,omitempty"`
	ToCIDRSet   []cidrRule       `yaml:"toCIDRSet,omitempty"`
	ToPorts     []ciliumPortRule `yaml:"toPorts,omitempty"`
}

type fqdnSelector struct {
	MatchName    string `yaml:"matchName,omitempty"`
	MatchPattern string `yaml:"matchPattern,omitempty"`
}

type cidrRule struct {
	CIDR   string   `yaml:"cidr"`
	Except []string `yaml:"except,omitempty"`
}

type ciliumPortRule struct {
	Ports []ciliumPort   `yaml:"ports"`
	Rules *ciliumL7Rules `yaml:"rules,omitempty"`
}

type ciliumPort struct {
	Port     string `yaml:"port"`
	EndPort  int32  `yaml:"endPort,omitempty"`
	Protocol string `yaml:"protocol"`
}

type ciliumL7Rules struct {
	DNS []fqdnSelector `yaml:"dns"`
}

// Security Profiles Operator (security-profiles-operator.x-k8s.io).

type spoSeccompProfile struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta  `yaml:"metadata"`
	Spec     seccompSpec `yaml:"spec"`
}

// seccompSpec is both the OCI runtime-spec seccomp object (what the Linux backend compiles
// and the node file holds) and the SeccompProfile's spec, which has the same field names.
type seccompSpec struct {
	DefaultAction string           `json:"defaultAction" yaml:"defaultAction"`
	Architectures []string         `json:"architectures,omitempty" yaml:"architectures,omitempty"`
	Syscalls      []seccompSyscall `json:"syscalls,omitempty" yaml:"syscalls,omitempty"`
}

type seccompSyscall struct {
	Names    []string     `json:"names" yaml:"names"`
	Action   string       `json:"action" yaml:"action"`
	ErrnoRet *uint        `json:"errnoRet,omitempty" yaml:"errnoRet,omitempty"`
	Args     []seccompArg `json:"args,omitempty" yaml:"args,omitempty"`
}

type seccompArg struct {
	Index    uint   `json:"index" yaml:"index"`
	Value    uint64 `json:"value" yaml:"value"`
	ValueTwo uint64 `json:"valueTwo" yaml:"valueTwo"`
	Op       string `json:"op" yaml:"op"`
}

type spoAppArmorProfile struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta   `yaml:"metadata"`
	Spec     appArmorSpec `yaml:"spec"`
}

type appArmorSpec struct {
	Abstract appArmorAbstract `yaml:"abstract"`
	Mode     string           `yaml:"mode"`
}

type appArmorAbstract struct {
	Executable *appArmorExec       `yaml:"executable,omitempty"`
	Filesystem *appArmorFilesystem `yaml:"filesystem,omitempty"`
	Network    *appArmorNetwork    `yaml:"network,omitempty"`
}

type appArmorExec struct {
	AllowedExecutables []string `yaml:"allowedExecutables,omitempty"`
}

type appArmorFilesystem struct {
	ReadOnlyPaths  []string `yaml:"readOnlyPaths,omitempty"`
	ReadWritePaths []string `yaml:"readWritePaths,omitempty"`
}

type appArmorNetwork struct {
	AllowRaw         bool              `yaml:"allowRaw"`
	AllowedProtocols appArmorProtocols `yaml:"allowedProtocols"`
}

type appArmorProtocols struct {
	AllowTCP bool `yaml:"allowTcp"`
	AllowUDP bool `yaml:"allowUdp"`
}
