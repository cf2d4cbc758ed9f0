//go:build linux

package kopens

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

// Open is one recorded open.
type Open struct {
	Tgid, Tid, Pid, NsTgid uint32
	Nr, Fd                 uint32
	Path                   string // as the opener sees it
	Status                 uint32
	// Flags are the open flags as passed (0 for openat2, whose flags are in memory).
	Flags uint32
	// Comm is the opener's name (its program's, at most 15 bytes): what the record says of a
	// process that has ended before it is read.
	Comm string
	// Dirs are the keys of the path's names, leaf first (the file, its directory, …): one
	// for each name of a complete path.
	Dirs []Dir
}

// Parent is the key of the directory holding the file, for Remember.
func (o Open) Parent() (Dir, bool) {
	if len(o.Dirs) < 2 {
		return Dir{}, false
	}
	return o.Dirs[1], true
}

// DirOf returns the key of dir, a directory on the record's path (a prefix of a complete
// Path other than "/"), for Remember.
func (o Open) DirOf(dir string) (Dir, bool) {
	if o.Status != Complete || dir == "/" || !strings.HasPrefix(o.Path, dir) || len(o.Path) > len(dir) && o.Path[len(dir)] != '/' {
		return Dir{}, false
	}
	i := len(o.Dirs) - strings.Count(dir, "/")
	if i < 0 || i >= len(o.Dirs) || o.Dirs[i].Dentry == 0 {
		return Dir{}, false
	}
	return o.Dirs[i], true
}

// Dir names a directory for the recorder: its mount and dentry (kernel addresses) and inode
// number, and the generation of the known directories the record was made in.
type Dir struct {
	Mnt, Dentry, Ino uint64
	Gen              uint32
}

// Recorder is a loaded and attached program with its reader.
type Recorder struct {
	m        maps
	prog     *ebpf.Program
	links    []link.Link
	reader   *ringbuf.Reader
	genMu    sync.Mutex
	gen      uint32 // the known directories' generation (Forget)
	dev, ino uint64 // the PID namespace (Configure)
}

// Options says which tasks are recorded.
type Options struct {
	NsDev, NsIno uint64 // the PID namespace
	Tgid         uint32 // 0: every process of the namespace
	LogVerifier  bool   // keep the verifier's log and statistics (the program's VerifierLog)
	// NoWakeup: records never wake the reader (BPF_RB_NO_WAKEUP); it must poll (Read with a
	// deadline).
	NoWakeup bool
	// RingBytes is the ring buffer's size, a power of two of pages (0: 256 KiB).
	RingBytes uint32
	// OffsetsCache is a file that keeps the kernel's struct offsets from one launch to the
	// next ("" for none): reading them from its BTF takes longer than the rest of the load.
	OffsetsCache string
}

// ErrUnsupported is Load's error where the recorder knows nothing of the architecture's
// registers and system call numbers.
var ErrUnsupported = errors.New("the kernel's recorder of opened files is built for amd64 only")

// Load loads, attaches and starts reading. On failure nothing stays loaded.
func Load(opt Options) (r *Recorder, err error) {
	if !Supported {
		return nil, ErrUnsupported
	}
	o, err := offsetsFrom(opt.OffsetsCache)
	if err != nil {
		return nil, err
	}
	r = &Recorder{}
	rec := r // a failed return sets r to nil before this runs
	defer func() {
		if err != nil {
			rec.Close()
		}
	}()
	if r.m.scratch, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: scratchSize, MaxEntries: 1}); err != nil {
		return nil, fmt.Errorf("scratch map: %w", err)
	}
	size := opt.RingBytes
	if size == 0 {
		size = ringBytes
	}
	if r.m.ring, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: size}); err != nil {
		return nil, fmt.Errorf("ring buffer: %w", err)
	}
	if r.m.drops, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}); err != nil {
		return nil, fmt.Errorf("drops map: %w", err)
	}
	if r.m.known, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.LRUHash, KeySize: keySize, ValueSize: 8, MaxEntries: knownDirs}); err != nil {
		return nil, fmt.Errorf("known directories map: %w", err)
	}
	if r.m.config, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: configSize, MaxEntries: 1}); err != nil {
		return nil, fmt.Errorf("configuration map: %w", err)
	}
	if r.m.kgen, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}); err != nil {
		return nil, fmt.Errorf("generation map: %w", err)
	}
	if r.m.moving, err = ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: movingThreads}); err != nil {
		return nil, fmt.Errorf("moving threads map: %w", err)
	}
	var ringFlags int32
	if opt.NoWakeup {
		ringFlags = 1 // BPF_RB_NO_WAKEUP
	}
	spec := &ebpf.ProgramSpec{
		Type:         ebpf.RawTracepoint,
		License:      "Dual MIT/GPL",
		Instructions: exitProgram(o, opt.Tgid, ringFlags, r.m),
	}
	popt := ebpf.ProgramOptions{}
	if opt.LogVerifier {
		popt.LogLevel = ebpf.LogLevelInstruction | ebpf.LogLevelStats
		popt.LogSizeStart = 1 << 20
	}
	if r.prog, err = ebpf.NewProgramWithOptions(spec, popt); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading: %+v", ve)
		}
		return nil, fmt.Errorf("loading: %w", err)
	}
	if r.reader, err = ringbuf.NewReader(r.m.ring); err != nil {
		return nil, fmt.Errorf("ring buffer reader: %w", err)
	}
	if opt.NsIno != 0 {
		if err := r.Configure(opt.NsDev, opt.NsIno); err != nil {
			return nil, err
		}
		if err := r.Attach(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Configure makes the program record the opens of the PID namespace dev:ino (as
// kdenials.NamespaceOf gives it); it records nothing before.
func (r *Recorder) Configure(dev, ino uint64) error {
	r.genMu.Lock()
	defer r.genMu.Unlock()
	r.dev, r.ino = dev, ino
	if err := r.putConfig(); err != nil {
		return fmt.Errorf("configuring the recorder of opened files: %w", err)
	}
	return nil
}

// putConfig writes the configuration (namespace, generation); genMu held.
func (r *Recorder) putConfig() error {
	var cfg [configSize]byte
	binary.NativeEndian.PutUint64(cfg[0:], r.dev)
	binary.NativeEndian.PutUint64(cfg[8:], r.ino)
	binary.NativeEndian.PutUint32(cfg[16:], r.gen)
	return r.m.config.Put(uint32(0), cfg[:])
}

// Program is the recorder's program, for the kernel denial recorder to chain (kdenials'
// Watcher.Chain) instead of Attach: it runs at raw_syscalls:sys_exit, for the calls Calls
// names.
func (r *Recorder) Program() *ebpf.Program { return r.prog }

// Calls are the system calls whose successful exits the program sees: the opens, which it
// records, and the calls that move or remove a directory (Moving).
var Calls = []int{nrOpen, nrOpenat, nrOpenat2, nrRename, nrRenameat, nrRenameat2, nrRmdir, nrUnlinkat}

// Attach attaches the program to the raw tracepoint on its own, once (where no kernel denial
// recorder runs it). It records once configured.
func (r *Recorder) Attach() error {
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: r.prog})
	if err != nil {
		return fmt.Errorf("attaching the recorder of opened files to the raw tracepoint sys_exit: %w", err)
	}
	r.links = append(r.links, l)
	return nil
}

// Read returns the next record, or an error once the deadline passes or the reader is closed.
func (r *Recorder) Read(deadline time.Time) (Open, error) {
	r.reader.SetDeadline(deadline)
	rec, err := r.reader.Read()
	if err != nil {
		return Open{}, err
	}
	return decode(rec.RawSample)
}

// Flush makes Read return the records already sent and then ErrFlushed, without waiting
// for its deadline; it may be called while another goroutine is in Read.
func (r *Recorder) Flush() error { return r.reader.Flush() }

// Remember tells the recorder that the opens of files directly in d (a record's Dir, or one
// of its Dirs), or with subtree of anything beneath it, need no record while its generation
// lasts (until Forget). A zero Dir is not remembered.
func (r *Recorder) Remember(d Dir, subtree bool) error {
	if d.Dentry == 0 {
		return nil
	}
	var key [keySize]byte
	binary.NativeEndian.PutUint64(key[0:], d.Mnt)
	binary.NativeEndian.PutUint64(key[8:], d.Dentry)
	binary.NativeEndian.PutUint64(key[16:], d.Ino)
	flags := uint32(knownChildren)
	if subtree {
		flags |= knownSubtree
	}
	var val [8]byte
	binary.NativeEndian.PutUint32(val[0:], d.Gen)
	binary.NativeEndian.PutUint32(val[4:], flags)
	return r.m.known.Put(key[:], val[:])
}

// Forget makes every directory remembered so far unknown again: a directory has moved or
// gone, and with it the paths of the files it holds. Records made before it carry the old
// generation, so that remembering them has no effect. Safe for concurrent use.
func (r *Recorder) Forget() error {
	r.genMu.Lock()
	defer r.genMu.Unlock()
	r.gen++
	return r.putConfig()
}

// Moving marks the thread tid (in agentrun's PID namespace, as seccomp notifications name it)
// as about to move or remove a directory: when its call is done, the kernel starts a new
// generation itself, as Forget did before the call. Between the two, a walk may have read a
// path half old, half new (the kernel walks without the rename lock), and remembering it would
// pass over reads that are not the directory's.
func (r *Recorder) Moving(tid int) error {
	return r.m.moving.Put(uint32(tid), uint32(1))
}

// ErrFlushed is what Read returns after Flush, once the records sent before it are read.
var ErrFlushed = ringbuf.ErrFlushed

// Drops returns the records lost to a full ring buffer.
func (r *Recorder) Drops() uint64 {
	var n uint64
	_ = r.m.drops.Lookup(uint32(0), &n)
	return n
}

// Close detaches and unloads everything.
func (r *Recorder) Close() error {
	var errs []error
	// Side by side: each waits for the kernel to stop calling the program (an RCU grace
	// period, ≈ 60 ms here).
	linkErrs := make([]error, len(r.links))
	var wg sync.WaitGroup
	for i, l := range r.links {
		wg.Go(func() { linkErrs[i] = l.Close() })
	}
	wg.Wait()
	errs = append(errs, linkErrs...)
	if r.reader != nil {
		errs = append(errs, r.reader.Close())
	}
	for _, c := range []interface{ Close() error }{r.prog, r.m.scratch, r.m.ring, r.m.drops, r.m.known, r.m.config, r.m.kgen, r.m.moving} {
		if c != nil && c != (*ebpf.Program)(nil) && c != (*ebpf.Map)(nil) {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

func decode(b []byte) (Open, error) {
	if len(b) < recKeys {
		return Open{}, fmt.Errorf("short record (%d bytes)", len(b))
	}
	u := func(off int) uint32 { return binary.NativeEndian.Uint32(b[off:]) }
	o := Open{Tgid: u(recTgid), Tid: u(recTid), Pid: u(recPid), NsTgid: u(recNsTgid), Nr: u(recNr), Fd: u(recFd), Status: u(recStatus), Flags: u(recFlags)}
	u64 := func(off int) uint64 { return binary.NativeEndian.Uint64(b[off:]) }
	n := int(u(recCount))
	names := recKeys + n*keySize
	if n > maxComponents || len(b) < names {
		return o, fmt.Errorf("record of %d names is %d bytes", n, len(b))
	}
	o.Dirs = make([]Dir, n)
	for i := range o.Dirs {
		k := recKeys + i*keySize
		o.Dirs[i] = Dir{Mnt: u64(k), Dentry: u64(k + 8), Ino: u64(k + 16), Gen: u(recGen)}
	}
	comm := b[recComm : recComm+commLen]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	o.Comm = string(comm)
	elems := bytes.Split(b[names:], []byte{0})
	if n > len(elems) {
		return o, fmt.Errorf("record of %d names holds %d", n, len(elems))
	}
	var sb strings.Builder
	for i := n - 1; i >= 0; i-- {
		sb.WriteByte('/')
		sb.Write(elems[i])
	}
	o.Path = sb.String()
	if o.Path == "" {
		o.Path = "/"
	}
	return o, nil
}
