package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/builtin"
	"github.com/agentrun/agentrun/profiles/schema"
)

// schemaURL is the resource name the schema is compiled under; it is the schema's $id.
const schemaURL = "https://raw.githubusercontent.com/agentrun/agentrun/main/profiles/schema/profile.schema.json"

// compile compiles the embedded schema with the draft-2020-12 rules it declares.
func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		t.Fatalf("profile.schema.json is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatalf("adding the schema: %v", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("profile.schema.json does not compile: %v", err)
	}
	return sch
}

// rawSchema decodes the embedded schema into plain maps, for walking it.
func rawSchema(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(schema.JSON, &m); err != nil {
		t.Fatalf("profile.schema.json is not valid JSON: %v", err)
	}
	return m
}

// TestSchemaCompiles checks that the schema is JSON, declares draft 2020-12 and compiles.
func TestSchemaCompiles(t *testing.T) {
	if !json.Valid(schema.JSON) {
		t.Fatal("profile.schema.json is not valid JSON")
	}
	m := rawSchema(t)
	if got, want := m["$schema"], "https://json-schema.org/draft/2020-12/schema"; got != want {
		t.Errorf("$schema is %v, want %s", got, want)
	}
	if got := m["$id"]; got != schemaURL {
		t.Errorf("$id is %v, want %s (keep the test's schemaURL in step)", got, schemaURL)
	}
	compile(t)
}

var (
	scalarType  = reflect.TypeOf(profiles.Scalar{})
	scalarsType = reflect.TypeOf([]profiles.Scalar(nil))
	envVarsType = reflect.TypeOf([]profiles.EnvVar(nil))
)

// yamlKeys lists the keys a struct accepts in YAML: its yaml tags, without "-".
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// objectNode returns the schema node that describes a mapping: node itself when it has
// properties, else its only oneOf/anyOf branch that has (network: none | {allow, udp}).
func objectNode(node map[string]any) (map[string]any, error) {
	if _, ok := node["properties"]; ok {
		return node, nil
	}
	var found []map[string]any
	for _, kw := range []string{"oneOf", "anyOf"} {
		branches, _ := node[kw].([]any)
		for _, b := range branches {
			if bm, ok := b.(map[string]any); ok {
				if _, ok := bm["properties"]; ok {
					found = append(found, bm)
				}
			}
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("has %d object branches with properties, want exactly one", len(found))
	}
	return found[0], nil
}

// walkType checks that node's properties are exactly the yaml keys of struct type typ, that
// node rejects other keys and that every key has a description, then recurses into the
// fields that are sections of their own.
func walkType(t *testing.T, where string, typ reflect.Type, node map[string]any) {
	t.Helper()
	if node["additionalProperties"] != false {
		t.Errorf("%s: the schema must set additionalProperties: false, as the decoder rejects unknown keys", where)
	}
	props, _ := node["properties"].(map[string]any)
	want := yamlKeys(typ)
	var got []string
	for k := range props {
		got = append(got, k)
	}
	slices.Sort(got)
	sortedWant := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, sortedWant) {
		t.Errorf("%s: schema properties %v, but %s has yaml keys %v", where, got, typ, sortedWant)
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		sub := strings.TrimPrefix(where+"."+tag, ".")
		child, ok := props[tag].(map[string]any)
		if !ok {
			continue // reported above
		}
		if d, _ := child["description"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("%s: no description in the schema", sub)
		}
		ft := f.Type
		switch {
		case ft == scalarType, ft == scalarsType, ft == envVarsType:
			// Leaves: a value, a list of values, the env.set mapping.
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct,
			ft.Kind() == reflect.Struct:
			obj, err := objectNode(child)
			if err != nil {
				t.Errorf("%s: %v", sub, err)
				continue
			}
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			walkType(t, sub, ft, obj)
		case ft.Kind() == reflect.Slice:
			items, ok := child["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: %s is a list, but the schema has no items", sub, ft)
				continue
			}
			et := ft.Elem()
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() != reflect.Struct {
				t.Errorf("%s: do not know how to compare %s with the schema; extend this test", sub, ft)
				continue
			}
			obj, err := objectNode(items)
			if err != nil {
				t.Errorf("%s items: %v", sub, err)
				continue
			}
			walkType(t, sub+"[]", et, obj)
		default:
			t.Errorf("%s: do not know how to compare %s with the schema; extend this test", sub, ft)
		}
	}
}

// TestSchemaMatchesGoTypes checks that the schema has exactly the keys of the Go types the
// decoder fills, at every level, so the two cannot drift apart.
func TestSchemaMatchesGoTypes(t *testing.T) {
	walkType(t, "", reflect.TypeOf(profiles.File{}), rawSchema(t))
}

// yamlToJSON converts a YAML document to the JSON value an editor validates: decoded into
// plain Go values, map keys made strings, then encoded as JSON.
func yamlToJSON(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(stringKeys(v))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(j))
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = stringKeys(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = stringKeys(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = stringKeys(x)
		}
		return out
	default:
		return v
	}
}

func validate(sch *jsonschema.Schema, data []byte) error {
	v, err := yamlToJSON(data)
	if err != nil {
		return fmt.Errorf("converting YAML to JSON: %w", err)
	}
	return sch.Validate(v)
}

// TestBuiltinProfilesValidate checks every built-in profile against the schema.
func TestBuiltinProfilesValidate(t *testing.T) {
	sch := compile(t)
	names, err := fs.Glob(builtin.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no built-in profiles found")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := fs.ReadFile(builtin.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, data); err != nil {
				t.Errorf("builtin/%s does not validate against the schema:\n%v", name, err)
			}
		})
	}
}

// TestValidTestdataValidates checks every profile in ../testdata/valid against the schema.
func TestValidTestdataValidates(t *testing.T) {
	sch := compile(t)
	files, err := filepath.Glob(filepath.Join("..", "testdata", "valid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no profiles in ../testdata/valid")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, data); err != nil {
				t.Errorf("%s does not validate against the schema:\n%v", file, err)
			}
		})
	}
}

// TestSchemaRejectsBrokenProfiles checks that the schema catches obvious mistakes, which
// agentrun rejects too.
func TestSchemaRejectsBrokenProfiles(t *testing.T) {
	sch := compile(t)
	for _, tc := range []struct{ name, doc string }{
		{"unknown key", "name: x\nfilesystem:\n  reed: [/srv]\n"},
		{"unknown top-level key", "name: x\nnetworks: none\n"},
		{"network all", "name: x\nnetwork: all\n"},
		{"network list", "name: x\nnetwork: [github.com]\n"},
		{"unknown network key", "name: x\nnetwork:\n  deny: [github.com]\n"},
		{"pids not a number", "name: x\nresources:\n  pids: x\n"},
		{"pids out of range", "name: x\nresources:\n  pids: 0\n"},
		{"cpu zero", "name: x\nresources:\n  cpu: 0\n"},
		{"memory in decimal units", "name: x\nresources:\n  memory: 8GB\n"},
		{"missing name", "description: no name\nmode: enforce\n"},
		{"name with space and capitals", "name: Bad Name\n"},
		{"mode", "name: x\nmode: permissive\n"},
		{"extends a file", "name: x\nextends: [base.yaml]\n"},
		{"relative path", "name: x\nfilesystem:\n  read: [src/lib]\n"},
		{"unknown variable", "name: x\nfilesystem:\n  read: [$PWD/x]\n"},
		{"dot-dot", "name: x\nfilesystem:\n  read: [~/../other]\n"},
		{"glob inside a name", "name: x\nexec:\n  allow: [/usr/lib**/bin]\n"},
		{"write the root", "name: x\nfilesystem:\n  write: [/]\n"},
		{"deny everything", "name: x\nfilesystem:\n  deny: [/./**/]\n"},
		{"URL in allow", "name: x\nnetwork:\n  allow: [https://api.example.com]\n"},
		{"UDP without port", "name: x\nnetwork:\n  udp: [time.example.com]\n"},
		{"pass everything", "name: x\nenv:\n  pass: ['*']\n"},
		{"env.set bad name", "name: x\nenv:\n  set:\n    1FOO: bar\n"},
		{"env.set list value", "name: x\nenv:\n  set:\n    FOO: [a]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := profiles.Parse("case.yaml", []byte(tc.doc)); err == nil {
				t.Errorf("agentrun accepts this case, so the schema must not reject it; fix the case:\n%s", tc.doc)
			}
			if err := validate(sch, []byte(tc.doc)); err == nil {
				t.Errorf("the schema accepts a broken profile:\n%s", tc.doc)
			}
		})
	}
}

// TestSchemaAcceptsWhatAgentrunAccepts checks, on spellings near the edges of the value
// rules, that the schema's patterns are not stricter than the decoder.
func TestSchemaAcceptsWhatAgentrunAccepts(t *testing.T) {
	sch := compile(t)
	for _, doc := range []string{
		"name: a\n",
		"name: a.b_c-1\ndescription: ''\nextends: []\nmatch: [claude, node.js]\nmode: audit\n",
		"name: a\nfilesystem: {read: ['~', '${HOME}/x', $XDG_RUNTIME_DIR/s, /usr/**/bin, ~/.ssh/id_*, /..., /, '/*/*']}\n",
		"name: a\nfilesystem: {read: ['~/'], write: [/..., '/*/*', /tmp/*.], deny: ['/.*']}\n",
		"name: a\nfilesystem: {read: [$HOME]}\n",
		"name: a\nfilesystem: {write: [$WORKSPACE, '~'], deny: [$TMPDIR/x], protect: [/etc]}\nexec: {allow: [/**], deny: [/usr/bin/su]}\n",
		"name: a\nfilesystem: {}\nexec: {}\nenv: {}\nresources: {}\n",
		"name: a\nnetwork: none\n",
		"name: a\nnetwork: 'none'\n",
		"name: a\nnetwork: {}\n",
		"name: a\nnetwork:\n  allow: [' github.com ', '*.example.com', 10.0.0.0/8, '10.1.2.3:5432', '2001:db8::/32', '[2001:db8::1]', bücher.de, '::ffff:192.0.2.1']\n",
		"name: a\nnetwork:\n  allow: ['GitHub.COM.:80-81,443', '[2001:db8::/32]:22']\n",
		"name: a\nnetwork:\n  udp: ['*.example.com:53', '[2001:db8::1]:123', '10.0.0.0/8:53,123']\n",
		"name: a\nresources: {memory: 8GiB, pids: 4096, cpu: 2}\n",
		"name: a\nresources: {memory: ' 1.5 GiB ', pids: 0x1000, cpu: 0.5}\n",
		"name: a\nresources: {memory: 16777216, cpu: 1024}\n",
		"name: a\nresources: {memory: 16777216B}\n",
		"name: a\nresources: {memory: 512M}\n",
		"name: a\nenv: {pass: [LC_*, _X, Path], set: {A: x, B: 1, C: 1.5, D: true, E: ''}}\n",
	} {
		if _, err := profiles.Parse("case.yaml", []byte(doc)); err != nil {
			t.Errorf("agentrun rejects this case, so it cannot show the schema is too strict; fix the case: %v\n%s", err, doc)
			continue
		}
		if err := validate(sch, []byte(doc)); err != nil {
			t.Errorf("the schema rejects a profile agentrun accepts:\n%s%v", doc, err)
		}
	}
}
