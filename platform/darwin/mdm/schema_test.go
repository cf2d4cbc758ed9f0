package mdm

import (
	"fmt"
	"sort"
	"strings"
)

// key is one documented key of a plist dictionary: its type and whether it is required.
type key struct {
	typ      string // "string", "bool", "int", "array", "dict", "map" (any keys, each of elem)
	required bool
	fields   schema // for "dict", and for the dictionaries of an "array" or "map" of dicts
	elem     string // for "array" and "map": the type of the elements
	values   []string
}

// reporter is what the checker reports to: a *testing.T, or a recorder in the checker's own test.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// recorder keeps what the checker reports.
type recorder struct{ errs *[]string }

func (recorder) Helper() {}
func (r recorder) Errorf(format string, args ...any) {
	*r.errs = append(*r.errs, fmt.Sprintf(format, args...))
}

// schema is the documented keys of one dictionary.
type schema map[string]key

// checkDict fails on a key not in s, a required key missing, and a value of another type.
func checkDict(t reporter, at string, d map[string]any, s schema) {
	t.Helper()
	for k, v := range d {
		spec, ok := s[k]
		if !ok {
			t.Errorf("%s%s: not a documented key", at, k)
			continue
		}
		checkValue(t, at+k, v, spec)
	}
	var missing []string
	for k, spec := range s {
		if _, ok := d[k]; spec.required && !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s: required keys missing: %s", strings.TrimSuffix(at, "."), strings.Join(missing, ", "))
	}
}

func checkValue(t reporter, at string, v any, spec key) {
	t.Helper()
	switch spec.typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			t.Errorf("%s: %T, want a string", at, v)
		} else if len(spec.values) > 0 && !contains(spec.values, s) {
			t.Errorf("%s: %q is not one of %v", at, s, spec.values)
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: %T, want a boolean", at, v)
		}
	case "int":
		if _, ok := v.(uint64); !ok {
			if _, ok := v.(int64); !ok {
				t.Errorf("%s: %T, want an integer", at, v)
			}
		}
	case "dict":
		d, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want a dictionary", at, v)
			return
		}
		checkDict(t, at+".", d, spec.fields)
	case "array":
		a, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %T, want an array", at, v)
			return
		}
		for i, e := range a {
			checkValue(t, fmt.Sprintf("%s[%d]", at, i), e, key{typ: spec.elem, fields: spec.fields, values: spec.values})
		}
	case "map":
		d, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want a dictionary", at, v)
			return
		}
		for k, e := range d {
			checkValue(t, at+"."+k, e, key{typ: spec.elem, fields: spec.fields})
		}
	default:
		t.Errorf("schema: unknown type %q", spec.typ)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// faaSchema is Santa's FAA configuration as documented (northpole.dev, Configuration →
// File-Access Authorization): root, WatchItems rules, Paths, Options, Processes.
var faaSchema = schema{
	"Version":         {typ: "string", required: true},
	"EventDetailURL":  {typ: "string"},
	"EventDetailText": {typ: "string"},
	"WatchItems": {typ: "map", elem: "dict", fields: schema{
		"Paths": {typ: "array", required: true, elem: "dict", fields: schema{
			"Path":     {typ: "string", required: true},
			"IsPrefix": {typ: "bool"},
		}},
		"Options": {typ: "dict", fields: schema{
			"RuleType":            {typ: "string", required: true, values: []string{"PathsWithAllowedProcesses", "PathsWithDeniedProcesses", "ProcessesWithAllowedPaths", "ProcessesWithDeniedPaths"}},
			"AllowReadAccess":     {typ: "bool"},
			"AuditOnly":           {typ: "bool"},
			"EventDetailURL":      {typ: "string"},
			"EventDetailText":     {typ: "string"},
			"BlockMessage":        {typ: "string"},
			"EnableSilentMode":    {typ: "bool"},
			"EnableSilentTTYMode": {typ: "bool"},
		}},
		"Processes": {typ: "array", elem: "dict", fields: schema{
			"SigningID":         {typ: "string"},
			"TeamID":            {typ: "string"},
			"CDHash":            {typ: "string"},
			"CertificateSha256": {typ: "string"},
			"BinaryPath":        {typ: "string"},
			"PlatformBinary":    {typ: "bool"},
		}},
	}},
}
