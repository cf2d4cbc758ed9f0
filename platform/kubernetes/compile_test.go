package kubernetes

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/agentrun/agentrun/platform/linux/apparmor"
	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// filterGolden is the Linux backend's seccomp filter as its own golden test keeps it: the
// compiler runs only on Linux, this package's tests everywhere.
const filterGolden = "../linux/testdata/seccomp.json.golden"

func mechanisms(t *testing.T, pol *profiles.Policy) Mechanisms {
	t.Helper()
	filter, err := os.ReadFile(filterGolden)
	if err != nil {
		t.Fatal(err)
	}
	text, err := apparmor.Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	return Mechanisms{Seccomp: filter, AppArmor: text, AppArmorName: apparmor.ProfileName(pol)}
}

// builtinPolicies resolves every built-in profile for the container's paths.
func builtinPolicies(t *testing.T) map[string]*profiles.Policy {
	t.Helper()
	return profilestest.Builtins(t, Env())
}

var testOptions = Options{Command: []string{"agent", "--task", "fix the tests"}, Image: "registry.example/agents:1", Namespace: "agents", UID: DefaultUID}

// TestGolden compiles every built-in profile, plus claude as a Pod on a claim with the
// AppArmor annotation; each output must also pass TestObjectsValid's checks.
func TestGolden(t *testing.T) {
	pols := builtinPolicies(t)
	type variant struct {
		pol *profiles.Policy
		o   Options
	}
	cases := map[string]variant{}
	for name, pol := range pols {
		cases[name] = variant{pol, testOptions}
	}
	pod := testOptions
	pod.Kind, pod.PVC, pod.AppArmorAnnotation, pod.UID = KindPod, "agent-workspace", true, 1001
	cases["claude-pod"] = variant{pols["claude"], pod}
	audit := *pols["claude"]
	audit.Mode = profiles.ModeAudit
	cases["claude-audit"] = variant{&audit, testOptions}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Compile(v.pol, mechanisms(t, v.pol), v.o)
			if err != nil {
				t.Fatal(err)
			}
			profilestest.Golden(t, "platform/kubernetes", name+".k8s.yaml.golden", res.YAML, *update)
			checkObjects(t, res.YAML)
		})
	}
}

// documents splits a YAML stream into its documents, leaving out comment-only ones.
func documents(t *testing.T, stream []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, d := range bytes.Split(stream, []byte("\n---\n")) {
		var content bool
		for _, l := range strings.Split(string(d), "\n") {
			if l != "" && l != "---" && !strings.HasPrefix(l, "#") {
				content = true
			}
		}
		if content {
			out = append(out, d)
		}
	}
	return out
}

// crdSchemas are the custom resources' schemas, by apiVersion and kind.
var crdSchemas = map[string]string{
	"cilium.io/v2 CiliumNetworkPolicy":                             "ciliumnetworkpolicy-v2.json",
	"security-profiles-operator.x-k8s.io/v1beta1 SeccompProfile":   "seccompprofile-v1beta1.json",
	"security-profiles-operator.x-k8s.io/v1alpha1 AppArmorProfile": "apparmorprofile-v1alpha1.json",
}

// closeSchema makes every object schema that lists its properties refuse others, as a
// strict client does; metadata is checked by the core types' decoding elsewhere.
func closeSchema(v any) {
	switch s := v.(type) {
	case map[string]any:
		_, listed := s["properties"]
		listed = listed && s["type"] == "object" // not the oneOf/anyOf branches, which only constrain
		_, addl := s["additionalProperties"]
		_, keep := s["x-kubernetes-preserve-unknown-fields"]
		if listed && !addl && !keep {
			s["additionalProperties"] = false
		}
		for _, x := range s {
			closeSchema(x)
		}
	case []any:
		for _, x := range s {
			closeSchema(x)
		}
	}
}

func loadSchema(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "crd", file))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	closeSchema(doc)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // OpenAPI v3.0's schema object is draft 4's, extended
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "cidr", Validate: validCIDR})
	if err := c.AddResource(file, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkObjects decodes every object strictly: the core kinds into the official Go types
// (an unknown field is an error), the custom resources against their CRD's schema.
func checkObjects(t *testing.T, stream []byte) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	for _, d := range documents(t, stream) {
		var tm struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(d, &tm); err != nil {
			t.Fatalf("%v in\n%s", err, d)
		}
		kinds[tm.Kind]++
		var into any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			into = &corev1.ConfigMap{}
		case "v1 Pod":
			into = &corev1.Pod{}
		case "batch/v1 Job":
			into = &batchv1.Job{}
		case "networking.k8s.io/v1 NetworkPolicy":
			into = &networkingv1.NetworkPolicy{}
		default:
			file, ok := crdSchemas[tm.APIVersion+" "+tm.Kind]
			if !ok {
				t.Errorf("object %s %s has neither a Go type nor a CRD schema to check it", tm.APIVersion, tm.Kind)
				continue
			}
			j, err := yaml.YAMLToJSON(d)
			if err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
			if err != nil {
				t.Fatal(err)
			}
			if err := loadSchema(t, file).Validate(v); err != nil {
				t.Errorf("%s does not match its CRD schema: %v", tm.Kind, err)
			}
			continue
		}
		if err := yaml.UnmarshalStrict(d, into); err != nil {
			t.Errorf("%s does not decode strictly: %v", tm.Kind, err)
		}
	}
	return kinds
}

func validCIDR(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if _, err := parsePrefix(s); err != nil {
		return err
	}
	return nil
}

// TestObjectsValid checks that the checks fail: a field the official types do not have, and
// one the CRD schema does not list, are each an error.
func TestObjectsValid(t *testing.T) {
	pol := builtinPolicies(t)["claude"]
	res, err := Compile(pol, mechanisms(t, pol), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	kinds := checkObjects(t, res.YAML)
	for _, k := range []string{"ConfigMap", "SeccompProfile", "AppArmorProfile", "NetworkPolicy", "CiliumNetworkPolicy", "Job"} {
		if kinds[k] != 1 {
			t.Errorf("%d %s objects, want 1", kinds[k], k)
		}
	}
	job := []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {backoffLimt: 0}\n")
	if err := yaml.UnmarshalStrict(job, &batchv1.Job{}); err == nil {
		t.Error("a misspelt Job field decoded strictly")
	}
	cnp := []byte(`{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"x"},"spec":{"endpointSelector":{},"egress":[{"toFQDN":[{"matchName":"a.example"}]}]}}`)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(cnp))
	if err := loadSchema(t, crdSchemas["cilium.io/v2 CiliumNetworkPolicy"]).Validate(v); err == nil {
		t.Error("a misspelt CiliumNetworkPolicy field passed the CRD schema")
	}
}

func TestOptionErrors(t *testing.T) {
	pol := builtinPolicies(t)["base"]
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no image", func(o *Options) { o.Image = "" }, "--image IMG"},
		{"no command", func(o *Options) { o.Command = nil }, "after --"},
		{"bad kind", func(o *Options) { o.Kind = "deployment" }, "--kind job or --kind pod"},
		{"root", func(o *Options) { o.UID = 0 }, "runAsNonRoot"},
		{"bad namespace", func(o *Options) { o.Namespace = "Agents" }, "lowercase"},
		{"bad claim", func(o *Options) { o.PVC = "my_claim" }, "PersistentVolumeClaim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions
			tc.edit(&o)
			_, err := Compile(pol, mechanisms(t, pol), o)
			var oe *OptionError
			if !errors.As(err, &oe) || !strings.Contains(oe.Fix, tc.want) {
				t.Errorf("error %v, want an OptionError whose fix says %q", err, tc.want)
			}
		})
	}
}

// policyFrom resolves a profile written for a test, extending base.
func policyFrom(t *testing.T, body string) *profiles.Policy {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(file, []byte("name: t\nextends: [base]\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := profiles.Load(builtin.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := profiles.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := cat.Resolve(e, Env())
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestNetwork checks the egress objects: wildcards as Cilium's multi-label pattern, CIDRs with
// the metadata ranges excepted, names said to be beyond a NetworkPolicy, and no network at
// all denying DNS too.
func TestNetwork(t *testing.T) {
	pol := policyFrom(t, "network:\n  allow: [\"*.example.com:443\", api.example.org:443, \"169.254.0.0/15:8000-8100\"]\n")
	res, err := Compile(pol, mechanisms(t, pol), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, res.YAML)
	out := string(res.YAML)
	for _, want := range []string{
		"matchPattern: '**.example.com'", "matchName: api.example.org",
		"cidr: 169.254.0.0/15\n", "- 169.254.0.0/16\n", "endPort: 8100",
		"egressDeny:\n    - toCIDRSet:\n        - cidr: 169.254.0.0/16",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "*.example.com:443") {
		t.Errorf("notes %q, want one naming the host rules", res.Notes)
	}

	none := policyFrom(t, "")
	res, err = Compile(none, mechanisms(t, none), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	checkObjects(t, res.YAML)
	for _, d := range documents(t, res.YAML) {
		var o struct {
			Kind string
			Spec struct {
				Egress []any
			}
		}
		if err := yaml.Unmarshal(d, &o); err != nil {
			t.Fatal(err)
		}
		if (o.Kind == "NetworkPolicy" || o.Kind == "CiliumNetworkPolicy") && len(o.Spec.Egress) != 0 {
			t.Errorf("%s allows egress %v to a profile with no network", o.Kind, o.Spec.Egress)
		}
	}
}

// TestKernelOnly checks that a notified rule becomes an EPERM rule, and that a filter field
// this package does not know is an error rather than dropped.
func TestKernelOnly(t *testing.T) {
	s, notified, err := kernelOnly([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["connect"],"action":"SCMP_ACT_NOTIFY"},{"names":["ptrace"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(notified) != "[connect]" || s.Syscalls[0].Action != "SCMP_ACT_ERRNO" || s.Syscalls[0].ErrnoRet == nil || *s.Syscalls[0].ErrnoRet != eperm {
		t.Errorf("notified %v, rule %+v", notified, s.Syscalls[0])
	}
	if _, _, err := kernelOnly([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/x"}`)); err == nil {
		t.Error("an unknown filter field was accepted")
	}
	// The masked comparisons keep the mask in value and the datum in valueTwo.
	filter, err := os.ReadFile(filterGolden)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = kernelOnly(filter)
	if err != nil {
		t.Fatal(err)
	}
	var masked bool
	for _, sc := range s.Syscalls {
		for _, a := range sc.Args {
			if sc.Names[0] == "socket" && a.Op == "SCMP_CMP_MASKED_EQ" && a.Index == 0 && a.Value == 0xffffffff && a.ValueTwo == 40 { // AF_VSOCK
				masked = true
			}
		}
	}
	if !masked {
		t.Error("no masked socket(AF_VSOCK) rule with the mask in value and the datum in valueTwo")
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatal(err)
	}
}

func parsePrefix(s string) (netip.Prefix, error) { return netip.ParsePrefix(s) }
