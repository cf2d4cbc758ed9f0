package stage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter/seccompprog"
)

// The stage's configuration travels in a compact binary form of its own, field by field in
// the order of the types' declarations: agentrun and its stage come from one build (see
// platform/linux's stageBuildID), so the form needs no versions or field names. One function,
// (*wire).config, walks the configuration both ways, writing (appendConfig) or reading
// (parseConfig), so that the two cannot disagree on the order. encoding/json, which it
// replaces, cost the stage ≈ 8 ms of every launch on a machine whose page faults are slow:
// reflection's caches, and the code and memory they touch the first time
// (docs/decisions.md). Unsigned numbers and lengths are uvarints, signed numbers varints,
// booleans one byte (0 or 1), strings and byte slices a length and their bytes, slices a
// count and their elements, pointers a presence byte and, when present, their value.

// wireMagic starts every configuration: what reaches the stage is nothing else.
var wireMagic = []byte("agentrun-stage-config\x01")

// maxConfig bounds what the stage reads as its configuration.
const maxConfig = 16 << 20

// errWire is a configuration that does not parse: truncated, or not written by appendConfig.
var errWire = errors.New("malformed")

// appendConfig appends c's encoding to b.
func appendConfig(b []byte, c *Config) []byte {
	x := &wire{b: append(b, wireMagic...)}
	x.config(c)
	return x.b
}

// parseConfig parses b, which must hold one configuration and nothing more. Slices come back
// non-nil: an empty environment must stay empty (exec.Cmd takes a nil one for "inherit").
func parseConfig(b []byte) (*Config, error) {
	rest, ok := bytes.CutPrefix(b, wireMagic)
	if !ok {
		return nil, fmt.Errorf("%w: it does not start as a configuration does", errWire)
	}
	x := &wire{b: rest, reading: true}
	c := &Config{}
	x.config(c)
	switch {
	case x.err != nil:
		return nil, x.err
	case len(x.b) != 0:
		return nil, fmt.Errorf("%w: %d bytes after its end", errWire, len(x.b))
	}
	return c, nil
}

// config walks c: every field, in order.
func (x *wire) config(c *Config) {
	x.str(&c.Path)
	x.strs(&c.Argv)
	x.strs(&c.Env)
	x.str(&c.Dir)
	x.bool(&c.TTY)
	slice(x, &c.Landlock, func(r *Rule) {
		x.str(&r.Path)
		x.str(&r.Rights)
	})
	x.bool(&c.Direct)
	x.bool(&c.NoNetwork)
	ptr(x, &c.Seccomp, func(p *seccompprog.Program) {
		x.bytes(&p.Raw)
		x.bool(&p.Listener)
	})
	ptr(x, &c.Net, func(n *Net) {
		x.str(&n.Addr4)
		x.str(&n.Addr6)
		x.int(&n.MTU)
	})
	x.bool(&c.RequireLandlock)
	x.bool(&c.Audit)
	ptr(x, &c.Sandbox, x.sandbox)
}

func (x *wire) sandbox(s *Sandbox) {
	x.str(&s.Base)
	slice(x, &s.Ops, func(op *rootfs.MountOp) {
		kind := string(op.Kind)
		x.str(&kind)
		op.Kind = rootfs.OpKind(kind)
		x.str(&op.Src)
		x.str(&op.Dst)
		x.bool(&op.Dir)
		unsigned(x, &op.Flags)
		x.str(&op.Data)
		unsigned(x, &op.Mode)
		x.bool(&op.Own)
		x.bool(&op.Quiet)
		x.bool(&op.IDMap)
	})
	x.bool(&s.SetUser)
	x.int(&s.UID)
	x.int(&s.GID)
	slice(x, &s.Groups, x.int)
	ptr(x, &s.IDMap, func(m *rootfs.IDMapping) {
		x.int(&m.OwnerUID)
		x.int(&m.OwnerGID)
		x.int(&m.UID)
		x.int(&m.GID)
	})
	x.bool(&s.UnshareCgroup)
	x.str(&s.AppArmor)
	unsigned(x, &s.Cols)
	unsigned(x, &s.Rows)
}

// wire writes the values it is given to b or, reading, reads them from b into what it is
// given. Reading, the first error sticks: every later read leaves a zero value, and
// parseConfig reports the error once.
type wire struct {
	b       []byte
	reading bool
	err     error
}

func (x *wire) fail(what string) {
	if x.err == nil {
		x.err = fmt.Errorf("%w: %s", errWire, what)
	}
	x.b = nil
}

// uvarint writes v, or reads it no larger than limit.
func (x *wire) uvarint(v *uint64, limit uint64) {
	if !x.reading {
		x.b = binary.AppendUvarint(x.b, *v)
		return
	}
	if x.err != nil {
		return
	}
	n, size := binary.Uvarint(x.b)
	switch {
	case size <= 0:
		x.fail("a number is cut short or too large")
	case n > limit:
		x.fail(fmt.Sprintf("%d is larger than %d", n, limit))
	default:
		*v, x.b = n, x.b[size:]
	}
}

// unsigned is an unsigned field, within its type's range.
func unsigned[T uint16 | uint32 | uint64](x *wire, v *T) {
	u := uint64(*v)
	x.uvarint(&u, uint64(^T(0)))
	*v = T(u)
}

func (x *wire) int(v *int) {
	if !x.reading {
		x.b = binary.AppendVarint(x.b, int64(*v))
		return
	}
	if x.err != nil {
		return
	}
	n, size := binary.Varint(x.b)
	if size <= 0 || n < math.MinInt || n > math.MaxInt {
		x.fail("a number is cut short or too large")
		return
	}
	*v, x.b = int(n), x.b[size:]
}

func (x *wire) bool(v *bool) {
	switch {
	case !x.reading && *v:
		x.b = append(x.b, 1)
	case !x.reading:
		x.b = append(x.b, 0)
	case x.err != nil:
	case len(x.b) == 0:
		x.fail("cut short")
	case x.b[0] > 1:
		x.fail(fmt.Sprintf("a boolean is %d", x.b[0]))
	default:
		*v, x.b = x.b[0] == 1, x.b[1:]
	}
}

// count writes n, or reads a length or a number of elements: each element takes at least a
// byte, so it is never more than what is left (no allocation larger than the input).
func (x *wire) count(n int) int {
	u := uint64(n)
	x.uvarint(&u, math.MaxUint64)
	if x.reading && u > uint64(len(x.b)) {
		x.fail(fmt.Sprintf("%d elements where %d bytes are left", u, len(x.b)))
		return 0
	}
	return int(u)
}

func (x *wire) bytes(v *[]byte) {
	n := x.count(len(*v))
	if !x.reading {
		x.b = append(x.b, *v...)
		return
	}
	*v = append([]byte{}, x.b[:n]...)
	x.b = x.b[n:]
}

func (x *wire) str(v *string) {
	n := x.count(len(*v))
	if !x.reading {
		x.b = append(x.b, *v...)
		return
	}
	*v = string(x.b[:n])
	x.b = x.b[n:]
}

func (x *wire) strs(v *[]string) { slice(x, v, x.str) }

// slice walks a slice: its count, then each element. Reading, it is made non-nil.
func slice[T any](x *wire, s *[]T, each func(*T)) {
	n := x.count(len(*s))
	if x.reading {
		*s = make([]T, n)
	}
	for i := range *s {
		each(&(*s)[i])
	}
}

// ptr walks a pointer: whether it is set, then, when it is, what it points to.
func ptr[T any](x *wire, p **T, each func(*T)) {
	set := *p != nil
	x.bool(&set)
	if !set {
		return
	}
	if x.reading {
		*p = new(T)
	}
	each(*p)
}
