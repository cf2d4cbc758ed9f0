package kdenials

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// Watcher is a loaded, attached recorder of one PID namespace's refused calls. Read and
// Flush and Close may be called at any time, from any goroutine.
type Watcher struct {
	m      maps
	progs  []*ebpf.Program
	links  []link.Link
	reader *ringbuf.Reader

	closeOnce sync.Once
	closeErr  error
}

// Load checks calls and errnos, loads the programs for the PID namespace ns and attaches them.
// Close releases everything, also when the sandbox has ended.
func Load(ns PIDNamespace, calls []Call, errnos []unix.Errno) (*Watcher, error) {
	if err := checkLoad(calls, errnos); err != nil {
		return nil, err
	}
	w := &Watcher{}
	if err := w.load(ns, calls, errnos); err != nil {
		w.Close()
		return nil, fmt.Errorf("loading the kernel denial recorder: %w: %s", err, Hint)
	}
	return w, nil
}

func checkLoad(calls []Call, errnos []unix.Errno) error {
	if !archSupported {
		return fmt.Errorf("loading the kernel denial recorder: %w: no system call argument layout for this architecture: %s", ErrUnavailable, Hint)
	}
	if len(calls) == 0 || len(errnos) == 0 {
		return errors.New("loading the kernel denial recorder: no system call or no errno to record")
	}
	seen := map[int]bool{}
	for _, c := range calls {
		if c.Nr < 0 || c.Nr >= maxNr || seen[c.Nr] {
			return fmt.Errorf("loading the kernel denial recorder: system call %d is out of range or named twice", c.Nr)
		}
		seen[c.Nr] = true
		if len(c.Paths) > 2 {
			return fmt.Errorf("loading the kernel denial recorder: system call %d: at most two path arguments, not %d", c.Nr, len(c.Paths))
		}
		for _, p := range c.Paths {
			if p < 0 || p > 5 {
				return fmt.Errorf("loading the kernel denial recorder: system call %d: no argument %d", c.Nr, p)
			}
			if c.Flags == p+1 {
				return fmt.Errorf("loading the kernel denial recorder: system call %d: argument %d is a path, not flags", c.Nr, p)
			}
		}
		if c.Flags < 0 || c.Flags > 6 {
			return fmt.Errorf("loading the kernel denial recorder: system call %d: no argument %d for flags", c.Nr, c.Flags-1)
		}
	}
	for _, e := range errnos {
		if e == 0 || e > maxErrno {
			return fmt.Errorf("loading the kernel denial recorder: errno %d is out of range", e)
		}
	}
	return nil
}

func (w *Watcher) load(ns PIDNamespace, calls []Call, errnos []unix.Errno) error {
	var err error
	newMap := func(name string, t ebpf.MapType, key, value, entries uint32) *ebpf.Map {
		if err != nil {
			return nil
		}
		var m *ebpf.Map
		m, err = ebpf.NewMap(&ebpf.MapSpec{Name: name, Type: t, KeySize: key, ValueSize: value, MaxEntries: entries})
		if err != nil {
			err = fmt.Errorf("making map %s: %w", name, err)
		}
		return m
	}
	w.m.calls = newMap("kd_calls", ebpf.Array, 4, 4, maxNr)
	w.m.errnos = newMap("kd_errnos", ebpf.Array, 4, 4, maxErrno+1)
	w.m.scratch = newMap("kd_scratch", ebpf.PerCPUArray, 4, scratchSize, 1)
	w.m.ring = newMap("kd_ring", ebpf.RingBuf, 0, 0, ringBytes)
	w.m.drops = newMap("kd_drops", ebpf.Array, 4, 8, 1)
	w.m.next = newMap("kd_next", ebpf.ProgramArray, 4, 4, 1)
	w.m.chainOn = newMap("kd_chain_on", ebpf.Array, 4, 4, 1)
	w.m.chained = newMap("kd_chained", ebpf.Array, 4, 4, maxNr)
	// An LRU hash is made whole when it is made: 4,096 keys took ≈ 0.3 ms of the launch's
	// CPU, 1,024 half that. A key lives a second (quietRefusals), and the probes of a second
	// are a few hundred; one forgotten early is only sent again.
	w.m.quiet = newMap("kd_quiet", ebpf.LRUHash, keySize, 8, maxQuiet)
	w.m.passed = newMap("kd_passed", ebpf.Array, 4, 8, 1)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if err := w.m.calls.Put(uint32(c.Nr), pathSpec(c)); err != nil {
			return fmt.Errorf("filling map kd_calls: %w", err)
		}
	}
	for _, e := range errnos {
		if err := w.m.errnos.Put(uint32(e), uint32(1)); err != nil {
			return fmt.Errorf("filling map kd_errnos: %w", err)
		}
	}
	if err := w.attach("kd_sys_exit", "sys_exit", exitProgram(ns, w.m)); err != nil {
		return err
	}
	w.reader, err = ringbuf.NewReader(w.m.ring)
	if err != nil {
		return fmt.Errorf("reading map kd_ring: %w", err)
	}
	return nil
}

// attach loads one program and attaches it to a raw tracepoint.
func (w *Watcher) attach(name, tracepoint string, insns []asm.Instruction) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         name,
		Type:         ebpf.RawTracepoint,
		Instructions: insns,
		// bpf_probe_read_user_str is for GPL-compatible programs only.
		License: "Dual MIT/GPL",
	})
	if err != nil {
		return fmt.Errorf("loading program %s: %w", name, err)
	}
	w.progs = append(w.progs, prog)
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tracepoint, Program: prog})
	if err != nil {
		return fmt.Errorf("attaching program %s to raw tracepoint %s: %w", name, tracepoint, err)
	}
	w.links = append(w.links, l)
	return nil
}

// Chain makes p, a raw tracepoint program, run at the exit of each successful system call
// numbered in calls (the recorder's own program handles the failed ones): a tail call, the
// cheapest way for a second recorder to see the calls (a program of its own on the tracepoint
// would cost every system call of the host a second call; a perf tracepoint per system call
// takes an RCU grace period to detach). p sees the tracepoint's context as its own would, and
// filters for itself. Until Unchain or Close.
func (w *Watcher) Chain(p *ebpf.Program, calls []int) error {
	if err := w.m.next.Put(uint32(0), p); err != nil {
		return fmt.Errorf("chaining a program to the kernel denial recorder: %w", err)
	}
	for _, nr := range calls {
		if nr < 0 || nr >= maxNr {
			return fmt.Errorf("chaining a program to the kernel denial recorder: system call %d is out of range", nr)
		}
		if err := w.m.chained.Put(uint32(nr), uint32(1)); err != nil {
			return fmt.Errorf("chaining a program to the kernel denial recorder: %w", err)
		}
	}
	if err := w.m.chainOn.Put(uint32(0), uint32(1)); err != nil {
		return fmt.Errorf("chaining a program to the kernel denial recorder: %w", err)
	}
	return nil
}

// Unchain stops running the program Chain set.
func (w *Watcher) Unchain() error {
	if err := w.m.chainOn.Put(uint32(0), uint32(0)); err != nil {
		return fmt.Errorf("unchaining the program of the kernel denial recorder: %w", err)
	}
	if err := w.m.next.Delete(uint32(0)); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("unchaining the program of the kernel denial recorder: %w", err)
	}
	return nil
}

// Read blocks until the next record, and returns ErrClosed after Close.
func (w *Watcher) Read() (Record, error) {
	raw, err := w.reader.Read()
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			return Record{}, ErrClosed
		}
		return Record{}, fmt.Errorf("reading the kernel denial recorder: %w", err)
	}
	return decodeRecord(raw.RawSample)
}

// Flush ends a reader's loop once the sandbox has ended: Read, waiting or not, returns the
// records already sent and then an error (ErrFlushed), without waiting. It may be
// called while another goroutine is in Read.
func (w *Watcher) Flush() error { return w.reader.Flush() }

// ErrFlushed is what Read returns after Flush, once the records sent before it are read.
var ErrFlushed = ringbuf.ErrFlushed

// Dropped is how many records were lost because the ring buffer was full (agentrun read too
// slowly for the sandbox's failures).
func (w *Watcher) Dropped() uint64 {
	var n uint64
	if err := w.m.drops.Lookup(uint32(0), &n); err != nil {
		return 0
	}
	return n
}

// PassOver makes the recorder send no record, for d from now, of a failed call numbered nr
// that fails with errno, whose one path argument is exactly path and whose Flags argument is
// flags (0 for a call without one); each is counted (PassedOver). It is for a failure the
// caller has judged to be nothing, and that cannot become something else within d: the
// recorder compares only the bytes of the path, not what they lead to. A call of two paths,
// or a path of keyPathMax bytes or more, is always sent. Safe for concurrent use.
func (w *Watcher) PassOver(nr int, errno unix.Errno, flags uint64, path string, d time.Duration) error {
	if path == "" || len(path) >= keyPathMax || strings.IndexByte(path, 0) >= 0 {
		return fmt.Errorf("passing over a refused call: the recorder keeps paths of 1 to %d bytes, not %d", keyPathMax-1, len(path))
	}
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil { // bpf_ktime_get_ns's clock
		return fmt.Errorf("passing over a refused call: reading the clock: %w", err)
	}
	key := make([]byte, keySize)
	le := binary.NativeEndian
	le.PutUint32(key[keyNr:], uint32(nr))
	le.PutUint32(key[keyErrno:], uint32(errno))
	le.PutUint64(key[keyFlags:], flags)
	copy(key[keyPath:], path)
	if err := w.m.quiet.Put(key, uint64(now.Nano())+uint64(d)); err != nil {
		return fmt.Errorf("passing over a refused call: %w", err)
	}
	return nil
}

// PassedOver is how many failures were not sent because of PassOver.
func (w *Watcher) PassedOver() uint64 {
	var n uint64
	if err := w.m.passed.Lookup(uint32(0), &n); err != nil {
		return 0
	}
	return n
}

// Close detaches the programs and releases them and their maps; a blocked Read returns
// ErrClosed. A second Close returns what the first did.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() { w.closeErr = w.release() })
	return w.closeErr
}

func (w *Watcher) release() error {
	var errs []error
	for i := len(w.links) - 1; i >= 0; i-- {
		errs = append(errs, w.links[i].Close())
	}
	w.links = nil
	if w.reader != nil {
		errs = append(errs, w.reader.Close())
	}
	for _, p := range w.progs {
		errs = append(errs, p.Close())
	}
	w.progs = nil
	for _, m := range []*ebpf.Map{w.m.calls, w.m.errnos, w.m.scratch, w.m.ring, w.m.drops, w.m.next, w.m.chainOn, w.m.chained, w.m.quiet, w.m.passed} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	w.m = maps{}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing the kernel denial recorder: %w", err)
	}
	return nil
}
