package stage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/linux/seccompfilter/seccompprog"
)

// The stage's configuration travels in a compact binary form of its own, written by
// appendConfig and read by readConfig, field by field in the order of the types' declarations:
// agentrun and its stage come from one build (see platform/linux's stageBuildID), so the form
// needs no versions or field names. encoding/json, which it replaces, cost the stage ≈ 8 ms
// of every launch on a machine whose page faults are slow: reflection's caches, and the code
// and memory they touch the first time (docs/decisions.md). Unsigned numbers and lengths are
// uvarints, signed numbers varints, booleans one byte (0 or 1), strings and byte slices a
// length and their bytes, slices a count and their elements, pointers a presence byte and,
// when present, their value.

// wireMagic starts every configuration: what reaches the stage is nothing else.
var wireMagic = []byte("agentrun-stage-config\x01")

// maxConfig bounds what the stage reads as its configuration.
const maxConfig = 16 << 20

// errWire is a configuration that does not parse: truncated, or not written by appendConfig.
var errWire = errors.New("malformed")

func appendConfig(b []byte, c *Config) []byte {
	w := wireWriter{b: append(b, wireMagic...)}
	w.string(c.Path)
	w.strings(c.Argv)
	w.strings(c.Env)
	w.string(c.Dir)
	w.bool(c.TTY)
	w.uint(uint64(len(c.Landlock)))
	for _, r := range c.Landlock {
		w.string(r.Path)
		w.string(r.Rights)
	}
	w.bool(c.Direct)
	w.bool(c.NoNetwork)
	if w.bool(c.Seccomp != nil) {
		w.bytes(c.Seccomp.Raw)
		w.bool(c.Seccomp.Listener)
	}
	if w.bool(c.Net != nil) {
		w.string(c.Net.Addr4)
		w.string(c.Net.Addr6)
		w.int(c.Net.MTU)
	}
	w.bool(c.RequireLandlock)
	w.bool(c.Audit)
	if s := c.Sandbox; w.bool(s != nil) {
		w.string(s.Base)
		w.uint(uint64(len(s.Ops)))
		for _, op := range s.Ops {
			w.string(string(op.Kind))
			w.string(op.Src)
			w.string(op.Dst)
			w.bool(op.Dir)
			w.uint(op.Flags)
			w.string(op.Data)
			w.uint(uint64(op.Mode))
			w.bool(op.Own)
			w.bool(op.Quiet)
			w.bool(op.IDMap)
		}
		w.bool(s.SetUser)
		w.int(s.UID)
		w.int(s.GID)
		w.uint(uint64(len(s.Groups)))
		for _, g := range s.Groups {
			w.int(g)
		}
		if m := s.IDMap; w.bool(m != nil) {
			w.int(m.OwnerUID)
			w.int(m.OwnerGID)
			w.int(m.UID)
			w.int(m.GID)
		}
		w.bool(s.UnshareCgroup)
		w.string(s.AppArmor)
		w.uint(uint64(s.Cols))
		w.uint(uint64(s.Rows))
	}
	return w.b
}

// readConfig reads what appendConfig wrote, all of r up to its end.
func readConfig(r io.Reader) (*Config, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfig {
		return nil, fmt.Errorf("larger than %d bytes", maxConfig)
	}
	return parseConfig(b)
}

// parseConfig parses b, which must hold one configuration and nothing more. Slices come back
// non-nil: an empty environment must stay empty (exec.Cmd takes a nil one for "inherit").
func parseConfig(b []byte) (*Config, error) {
	rest, ok := bytes.CutPrefix(b, wireMagic)
	if !ok {
		return nil, fmt.Errorf("%w: it does not start as a configuration does", errWire)
	}
	rd := wireReader{b: rest}
	c := &Config{}
	c.Path = rd.string()
	c.Argv = rd.strings()
	c.Env = rd.strings()
	c.Dir = rd.string()
	c.TTY = rd.bool()
	c.Landlock = make([]Rule, rd.count())
	for i := range c.Landlock {
		c.Landlock[i] = Rule{Path: rd.string(), Rights: rd.string()}
	}
	c.Direct = rd.bool()
	c.NoNetwork = rd.bool()
	if rd.bool() {
		c.Seccomp = &seccompprog.Program{Raw: rd.bytes(), Listener: rd.bool()}
	}
	if rd.bool() {
		c.Net = &Net{Addr4: rd.string(), Addr6: rd.string(), MTU: rd.int()}
	}
	c.RequireLandlock = rd.bool()
	c.Audit = rd.bool()
	if rd.bool() {
		s := &Sandbox{Base: rd.string()}
		s.Ops = make([]rootfs.MountOp, rd.count())
		for i := range s.Ops {
			s.Ops[i] = rootfs.MountOp{Kind: rootfs.OpKind(rd.string()), Src: rd.string(), Dst: rd.string(), Dir: rd.bool(),
				Flags: rd.uint(), Data: rd.string(), Mode: uint32(rd.bounded(math.MaxUint32)), Own: rd.bool(), Quiet: rd.bool(), IDMap: rd.bool()}
		}
		s.SetUser = rd.bool()
		s.UID = rd.int()
		s.GID = rd.int()
		s.Groups = make([]int, rd.count())
		for i := range s.Groups {
			s.Groups[i] = rd.int()
		}
		if rd.bool() {
			s.IDMap = &rootfs.IDMapping{OwnerUID: rd.int(), OwnerGID: rd.int(), UID: rd.int(), GID: rd.int()}
		}
		s.UnshareCgroup = rd.bool()
		s.AppArmor = rd.string()
		s.Cols = uint16(rd.bounded(math.MaxUint16))
		s.Rows = uint16(rd.bounded(math.MaxUint16))
		c.Sandbox = s
	}
	switch {
	case rd.err != nil:
		return nil, rd.err
	case len(rd.b) != 0:
		return nil, fmt.Errorf("%w: %d bytes after its end", errWire, len(rd.b))
	}
	return c, nil
}

type wireWriter struct{ b []byte }

func (w *wireWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *wireWriter) int(v int)     { w.b = binary.AppendVarint(w.b, int64(v)) }

// bool writes v and returns it, so that a pointer's presence byte can lead its fields.
func (w *wireWriter) bool(v bool) bool {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
	return v
}

func (w *wireWriter) bytes(v []byte) {
	w.uint(uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *wireWriter) string(v string) {
	w.uint(uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *wireWriter) strings(v []string) {
	w.uint(uint64(len(v)))
	for _, s := range v {
		w.string(s)
	}
}

// wireReader reads what wireWriter wrote. The first error sticks: every later read returns
// a zero value, and parseConfig reports the error once.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errWire, what)
	}
	r.b = nil
}

func (r *wireReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("a number is cut short or too large")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bounded is an unsigned number no larger than limit.
func (r *wireReader) bounded(limit uint64) uint64 {
	v := r.uint()
	if v > limit {
		r.fail(fmt.Sprintf("%d is larger than %d", v, limit))
		return 0
	}
	return v
}

func (r *wireReader) int() int {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || v < math.MinInt || v > math.MaxInt {
		r.fail("a number is cut short or too large")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *wireReader) bool() bool {
	switch {
	case r.err != nil:
		return false
	case len(r.b) == 0:
		r.fail("cut short")
		return false
	case r.b[0] > 1:
		r.fail(fmt.Sprintf("a boolean is %d", r.b[0]))
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

// count is a length or a number of elements: each element takes at least a byte, so it is
// never more than what is left (no allocation larger than the input).
func (r *wireReader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail(fmt.Sprintf("%d elements where %d bytes are left", n, len(r.b)))
		return 0
	}
	return int(n)
}

func (r *wireReader) bytes() []byte {
	n := r.count()
	v := bytes.Clone(r.b[:n])
	if v == nil {
		v = []byte{}
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) string() string {
	n := r.count()
	v := string(r.b[:n])
	r.b = r.b[n:]
	return v
}

func (r *wireReader) strings() []string {
	v := make([]string, r.count())
	for i := range v {
		v[i] = r.string()
	}
	return v
}
