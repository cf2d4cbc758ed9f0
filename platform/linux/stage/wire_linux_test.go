package stage

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
)

// filled is a Config whose every field, at every depth (through pointers and slices), holds
// a value other than its zero, each one distinct, at the extremes of its type where a number
// is concerned. A field added to Config, Sandbox, Net, a mount op or the filter program is
// filled too, and a codec that does not carry it fails the round trip; a kind fill does not
// know (a map) fails here, so that the codec learns it first.
func filled(t testing.TB) *Config {
	t.Helper()
	c := &Config{}
	n := 0
	var fill func(v reflect.Value, path string)
	fill = func(v reflect.Value, path string) {
		n++
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("%s-%d\x00é", path, n))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int64:
			if n%2 == 0 {
				v.SetInt(math.MinInt64 + int64(n))
			} else {
				v.SetInt(math.MaxInt64 - int64(n))
			}
		case reflect.Uint8:
			v.SetUint(uint64(n))
		case reflect.Uint16, reflect.Uint32, reflect.Uint64:
			v.SetUint(uint64(1)<<(v.Type().Bits()-1) + uint64(n))
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), path)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 3, 3))
			for i := range 3 {
				fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		default:
			t.Fatalf("%s is a %s, which the stage's configuration codec does not carry (platform/linux/stage/wire_linux.go)", path, v.Kind())
		}
	}
	fill(reflect.ValueOf(c).Elem(), "Config")
	return c
}

// TestConfigWireRoundTrip checks that every field of the configuration reaches the stage as
// agentrun set it.
func TestConfigWireRoundTrip(t *testing.T) {
	want := filled(t)
	got, err := parseConfig(appendConfig(nil, want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the configuration changed on its way:\n got %+v\nwant %+v", got, want)
	}
	// And through Encode and decode, as agentrun and the stage use it.
	var buf bytes.Buffer
	if err := Encode(&buf, want); err != nil {
		t.Fatal(err)
	}
	if got, err = decode(&buf); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Encode then decode: %v\n got %+v\nwant %+v", err, got, want)
	}
}

// TestConfigWireEmpty checks a configuration with nothing in it: absent parts stay absent, and
// an empty environment stays an empty one, not a nil one, which exec.Cmd would take for "the
// stage's own".
func TestConfigWireEmpty(t *testing.T) {
	got, err := parseConfig(appendConfig(nil, &Config{Argv: []string{"true"}, Env: []string{}, Sandbox: &Sandbox{}}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Env == nil || len(got.Env) != 0 {
		t.Errorf("an empty environment came back as %#v", got.Env)
	}
	if got.Seccomp != nil || got.Net != nil || got.Sandbox == nil || got.Sandbox.IDMap != nil {
		t.Errorf("what is absent must stay absent, and what is present present: %+v", got)
	}
	if got, err := parseConfig(appendConfig(nil, &Config{Argv: []string{"true"}})); err != nil || got.Env == nil {
		t.Errorf("a nil environment must come back empty, not nil: %#v, %v", got, err)
	}
}

// TestConfigWireRejects checks that what appendConfig did not write whole is refused, never
// half read: every truncation of a full configuration, a byte too many, another magic, a
// boolean other than 0 or 1, a count larger than the input, a number past its type's range.
func TestConfigWireRejects(t *testing.T) {
	full := appendConfig(nil, filled(t))
	for n := range len(full) {
		if _, err := parseConfig(full[:n]); !errors.Is(err, errWire) {
			t.Fatalf("cut to %d of %d bytes: want a malformed configuration, got %v", n, len(full), err)
		}
	}
	if _, err := parseConfig(append(bytes.Clone(full), 0)); !errors.Is(err, errWire) {
		t.Errorf("a byte too many: got %v", err)
	}
	other := bytes.Clone(full)
	other[0] ^= 1
	if _, err := parseConfig(other); !errors.Is(err, errWire) {
		t.Errorf("another magic: got %v", err)
	}
	m := len(wireMagic)
	for name, tail := range map[string][]byte{
		// The path empty, no argv, no environment, the directory empty, then TTY.
		"a boolean of 2":               {0, 0, 0, 0, 2},
		"a count past the input":       {0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"a length past 64 bits":        append(bytes.Repeat([]byte{0xff}, 10), 0x7f),
		"a terminal column past 65535": sandboxWithCols(t, math.MaxUint16+1)[m:],
	} {
		if _, err := parseConfig(append(bytes.Clone(wireMagic), tail...)); !errors.Is(err, errWire) {
			t.Errorf("%s: want a malformed configuration, got %v", name, err)
		}
	}
	if c, err := parseConfig(sandboxWithCols(t, math.MaxUint16)); err != nil || c.Sandbox.Cols != math.MaxUint16 {
		t.Errorf("a terminal of 65535 columns: got %v, %v", c, err)
	}
}

// sandboxWithCols is an encoded configuration with a sandbox whose terminal has cols columns,
// written as the codec would if Cols were wider than it is.
func sandboxWithCols(t *testing.T, cols uint64) []byte {
	t.Helper()
	b := appendConfig(nil, &Config{Argv: []string{"x"}, Sandbox: &Sandbox{}})
	// The sandbox ends with Cols and Rows, 0 each: one byte each.
	x := &wire{b: b[:len(b)-2]}
	var rows uint64
	x.uvarint(&cols, math.MaxUint64)
	x.uvarint(&rows, math.MaxUint64)
	return x.b
}

// FuzzConfigWire checks that no input makes the stage's reading panic or allocate past its
// size, and that what it accepts is what appendConfig writes for it.
func FuzzConfigWire(f *testing.F) {
	f.Add(appendConfig(nil, filled(f)))
	f.Add(appendConfig(nil, &Config{Argv: []string{"true"}, Sandbox: &Sandbox{}}))
	f.Add(bytes.Clone(wireMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseConfig(b)
		if err != nil {
			return
		}
		again, err := parseConfig(appendConfig(nil, c))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("accepted %x as %+v, which comes back as %+v (%v)", b, c, again, err)
		}
	})
}
