//go:build linux

package kopens

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// A record (ring buffer), the header's fields at these offsets: host tgid u32, tid u32,
// task->pid u32, the tgid in the namespace u32, nr u32, fd u32, the names recorded u32,
// status u32, the open flags as passed (open's second argument, openat's third; 0 for
// openat2, whose flags are in memory) u32, the generation of the known directories u32, the
// task's comm (16 bytes), the bytes of names (u64), the key of each name's dentry (mount,
// dentry, inode number: 24 bytes, leaf first: the names' directories for Remember), then
// the path's names, leaf first, each NUL-terminated. While the record is built, the keys have
// room for maxComponents and the names start at recHeader; the names are moved up to the last
// key before the record is sent. The walk keeps its counts and status in the
// record, not on the stack: values in a map are not tracked by the verifier, so each step
// looks the same to it, and it checks the step once instead of once per count.
const (
	recTgid   = 0
	recTid    = 4
	recPid    = 8
	recNsTgid = 12
	recNr     = 16
	recFd     = 20
	recCount  = 24
	recStatus = 28
	recFlags  = 32
	recGen    = 36
	recComm   = 40
	commLen   = 16
	recBytes  = 56 // the walk's: the bytes of names written so far (u64)
	recKeys   = 64
	recHeader = recKeys + maxComponents*keySize // the names

	nameMax     = 256  // NAME_MAX plus its NUL
	namesMax    = 4096 // the bytes of names a record holds
	scratchSize = recHeader + namesMax + nameMax

	maxComponents = 256 // names recorded (a power of two); a deeper path is recorded truncated
	maxSteps      = 400 // walk steps, mount crossings included

	ringBytes     = 256 << 10
	knownDirs     = 1 << 14 // directories remembered (LRU; 65,536 take 3 ms to make)
	keySize       = 24
	configSize    = 24   // the configuration: namespace device, inode, generation, padding
	movingThreads = 1024 // threads marked as moving a directory at once (LRU)
	statusWalk    = 99   // the walk has not ended
)

// A record's status (Open.Status): Complete, or why Path is not the whole path.
const (
	Complete    = 0 // the walk reached the task's root
	Truncated   = 1 // more than maxComponents names or maxSteps steps
	Outside     = 2 // the namespace's root mount was reached without meeting the task's root
	Detached    = 3 // a dentry that is its own parent (not at its mount's root): unlinked
	NameErr     = 4 // a name could not be read
	statusKnown = 5 // the walk's: a directory on the way is known with all beneath it, no record
)

// The flags of a known directory (the second word of its value).
const (
	knownChildren = 1 // what is directly in it needs no record
	knownSubtree  = 2 // nothing beneath it needs one
)

// The main program's stack.
const (
	stPidns   = -8  // struct bpf_pidns_info
	stTmp     = -16 // target of probe reads (the step's frame uses it too)
	stZero    = -24 // the key 0 of the array maps
	stRootDen = -32
	stRootMnt = -40
	stNr      = -48
	stFlags   = -56
	stGen     = -64  // the generation of the known directories, from the configuration
	stKey     = -88  // the known directories' key: mount, dentry, inode number
	stWalk    = -136 // the walk's state, shared with the step (its context)
)

// The walk's state (at stWalk): what step reads and advances.
const (
	wMnt     = 0 // struct path's order: the file's f_path is read here in one
	wDentry  = 8
	wRootDen = 16
	wRootMnt = 24
)

// The step's own stack (its frame).
const (
	sfZero   = -8
	sfParent = -24
	sfMount  = -32
	sfKey    = -56 // the dentry's key: mount, dentry, inode number
)

type maps struct {
	scratch *ebpf.Map // per-CPU array [1] of a record being built
	ring    *ebpf.Map // ring buffer of records
	drops   *ebpf.Map // array [1]u64: records lost to a full ring buffer
	// known is an LRU hash of directories (key: mount, dentry, inode number) whose files, or
	// everything beneath them, agentrun has said need no record (Recorder.Remember): value,
	// the generation it was told in (u32) and the flags (knownChildren, knownSubtree, u32).
	known *ebpf.Map
	// config is an array [1]: the PID namespace recorded, device and inode number (u64
	// each; zero until Configure), and agentrun's part of the known directories' generation
	// (u32, Recorder.Forget). kgen is an array [1]u32, the kernel's part (the exit of a move
	// Recorder.Moving marked); moving is an LRU hash of those threads (u32 tid → u32).
	config, kgen, moving *ebpf.Map
}

// readPtr reads the kernel pointer at src+off into R0 (0 on a failed read), through stTmp.
func readPtr(src asm.Register, off int32) asm.Instructions {
	return asm.Instructions{
		storeImm64(asm.R10, stTmp, 0),
		asm.Mov.Reg(asm.R3, src),
		asm.Add.Imm(asm.R3, off),
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, stTmp),
		asm.Mov.Imm(asm.R2, 8),
		asm.FnProbeReadKernel.Call(),
		asm.LoadMem(asm.R0, asm.R10, stTmp, asm.DWord),
	}
}

// lookup leaves in R0 the value of m's key on the stack at key, going to label when none.
func lookup(m *ebpf.Map, key int16, label string) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, int32(key)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, label),
	}
}

// exitProgram runs at raw_syscalls:sys_exit (ctx: struct pt_regs *regs, long ret), on its own
// (Attach) or as the kernel denial recorder's program for successful calls (kdenials'
// Chain, which leaves it the same context): a successful open of the namespace's is recorded
// with its path, unless the directory holding the file, or one above it, is known in this
// generation. The walk up to the task's root is a bpf_loop of step, which the verifier checks
// once rather than once per iteration.
func exitProgram(o offsets, tgid uint32, ringFlags int32, m maps) asm.Instructions {
	insns := asm.Instructions{
		btf.WithFuncMetadata(asm.LoadMem(asm.R7, asm.R1, 8, asm.DWord), mainFunc), // ret
		asm.JSLT.Imm(asm.R7, 0, "exit"),
		asm.LoadMem(asm.R9, asm.R1, 0, asm.DWord), // regs
	}
	insns = append(insns, readPtr(asm.R9, o.regsOrigAx)...) // the call's number
	insns = append(insns,
		asm.StoreMem(asm.R10, stNr, asm.R0, asm.DWord),
		asm.JEq.Imm(asm.R0, nrOpenat, "isopen"),
		asm.JEq.Imm(asm.R0, nrOpen, "isopen"),
		asm.JEq.Imm(asm.R0, nrOpenat2, "isopen"),
		asm.JEq.Imm(asm.R0, nrRename, "moved"),
		asm.JEq.Imm(asm.R0, nrRenameat, "moved"),
		asm.JEq.Imm(asm.R0, nrRenameat2, "moved"),
		asm.JEq.Imm(asm.R0, nrRmdir, "moved"),
		asm.JEq.Imm(asm.R0, nrUnlinkat, "moved"),
		asm.Ja.Label("exit"),
		// The flags, from the caller's registers: open's in si, openat's in dx, openat2's in
		// memory.
		storeImm64(asm.R10, stFlags, 0).WithSymbol("isopen"),
		asm.JEq.Imm(asm.R0, nrOpenat2, "ns"),
		asm.Mov.Imm(asm.R3, o.regsDx),
		asm.JNE.Imm(asm.R0, nrOpen, "flags"),
		asm.Mov.Imm(asm.R3, o.regsSi),
		asm.Add.Reg(asm.R3, asm.R9).WithSymbol("flags"),
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, stFlags),
		asm.Mov.Imm(asm.R2, 8),
		asm.FnProbeReadKernel.Call(),
		// The namespace, from the configuration (Configure).
		storeImm64(asm.R10, stZero, 0).WithSymbol("ns"),
	)
	insns = append(insns, lookup(m.config, stZero, "exit")...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R0, 16, asm.Word),
		asm.StoreMem(asm.R10, stGen, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.LoadMem(asm.R2, asm.R0, 8, asm.DWord),
		asm.JEq.Imm(asm.R2, 0, "exit"), // not configured yet
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, stPidns),
		asm.Mov.Imm(asm.R4, 8),
		asm.FnGetNsCurrentPidTgid.Call(),
		asm.JNE.Imm(asm.R0, 0, "exit"),
	)
	// The generation: agentrun's (Forget) plus the kernel's (a marked move's exit).
	insns = append(insns, lookup(m.kgen, stZero, "exit")...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.LoadMem(asm.R2, asm.R10, stGen, asm.Word),
		asm.Add.Reg(asm.R1, asm.R2),
		asm.StoreMem(asm.R10, stGen, asm.R1, asm.Word),
	)
	if tgid != 0 { // benchmarks: one process only
		insns = append(insns,
			asm.FnGetCurrentPidTgid.Call(),
			asm.RSh.Imm(asm.R0, 32),
			asm.JNE.Imm(asm.R0, int32(tgid), "exit"),
		)
	}
	insns = append(insns, storeImm64(asm.R10, stZero, 0))
	insns = append(insns, lookup(m.scratch, stZero, "exit")...)
	insns = append(insns,
		asm.Mov.Reg(asm.R8, asm.R0), // the record
		asm.StoreMem(asm.R8, recFd, asm.R7, asm.Word),
		// The task, through BTF: direct loads.
		asm.FnGetCurrentTaskBtf.Call(),
		asm.Mov.Reg(asm.R9, asm.R0),
		asm.LoadMem(asm.R1, asm.R9, int16(o.taskPid), asm.Word),
		asm.StoreMem(asm.R8, recPid, asm.R1, asm.Word),
		// The root: task->fs->root.
		asm.LoadMem(asm.R1, asm.R9, int16(o.taskFs), asm.DWord),
		asm.JEq.Imm(asm.R1, 0, "exit"),
		asm.LoadMem(asm.R2, asm.R1, int16(o.fsRootDentry), asm.DWord),
		asm.StoreMem(asm.R10, stWalk+wRootDen, asm.R2, asm.DWord),
		asm.LoadMem(asm.R2, asm.R1, int16(o.fsRootMnt), asm.DWord),
		asm.StoreMem(asm.R10, stWalk+wRootMnt, asm.R2, asm.DWord),
		// task->files->fdt
		asm.LoadMem(asm.R1, asm.R9, int16(o.taskFiles), asm.DWord),
		asm.JEq.Imm(asm.R1, 0, "exit"),
		asm.LoadMem(asm.R1, asm.R1, int16(o.filesFdt), asm.DWord),
		asm.JEq.Imm(asm.R1, 0, "exit"),
		asm.LoadMem(asm.R2, asm.R1, int16(o.fdtMaxFds), asm.Word),
		asm.JGE.Reg(asm.R7, asm.R2, "exit"),
		asm.LoadMem(asm.R6, asm.R1, int16(o.fdtFd), asm.DWord), // struct file **: a scalar
		asm.LSh.Imm(asm.R7, 3),
		asm.Add.Reg(asm.R6, asm.R7),
	)
	insns = append(insns, readPtr(asm.R6, 0)...) // fd[ret]
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.Mov.Reg(asm.R9, asm.R0), // struct file *
	)
	if o.fileDentry == o.fileMnt+8 {
		// f_path, mount and dentry, in one read.
		insns = append(insns,
			asm.Mov.Reg(asm.R3, asm.R9),
			asm.Add.Imm(asm.R3, o.fileMnt),
			asm.Mov.Reg(asm.R1, asm.R10),
			asm.Add.Imm(asm.R1, stWalk+wMnt),
			asm.Mov.Imm(asm.R2, 16),
			asm.FnProbeReadKernel.Call(),
			asm.JNE.Imm(asm.R0, 0, "exit"),
		)
	} else {
		insns = append(insns, readPtr(asm.R9, o.fileMnt)...)
		insns = append(insns, asm.StoreMem(asm.R10, stWalk+wMnt, asm.R0, asm.DWord))
		insns = append(insns, readPtr(asm.R9, o.fileDentry)...)
		insns = append(insns, asm.StoreMem(asm.R10, stWalk+wDentry, asm.R0, asm.DWord))
	}
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R10, stWalk+wMnt, asm.DWord),
		asm.StoreMem(asm.R10, stKey, asm.R1, asm.DWord),
		asm.LoadMem(asm.R6, asm.R10, stWalk+wDentry, asm.DWord), // dentry
		asm.LoadMem(asm.R1, asm.R10, stGen, asm.Word),
		asm.StoreMem(asm.R8, recGen, asm.R1, asm.Word),
		// The key of the file's directory at stKey; its dentry stays zero where there is
		// none (the file is a mount's root: its directory is in another mount).
		storeImm64(asm.R10, stKey+8, 0),
	)
	insns = append(insns, readPtr(asm.R6, o.dentryParent)...)
	insns = append(insns,
		asm.JEq.Reg(asm.R0, asm.R6, "walk"),
		asm.StoreMem(asm.R10, stKey+16, asm.R0, asm.DWord), // the dentry, for now
	)
	insns = append(insns, readPtr(asm.R0, o.dentryInode)...)
	insns = append(insns, asm.JEq.Imm(asm.R0, 0, "walk"))
	insns = append(insns, readPtr(asm.R0, o.inodeIno)...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R10, stKey+16, asm.DWord),
		asm.StoreMem(asm.R10, stKey+8, asm.R1, asm.DWord),
		asm.StoreMem(asm.R10, stKey+16, asm.R0, asm.DWord),
	)
	insns = append(insns, lookup(m.known, stKey, "walk")...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.LoadMem(asm.R2, asm.R8, recGen, asm.Word),
		asm.JEq.Reg(asm.R1, asm.R2, "exit"), // known: no record

		// The record's header.
		asm.FnGetCurrentPidTgid.Call().WithSymbol("walk"),
		asm.StoreMem(asm.R8, recTid, asm.R0, asm.Word),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.R8, recTgid, asm.R0, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stPidns+4, asm.Word), // bpf_pidns_info.tgid
		asm.StoreMem(asm.R8, recNsTgid, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stNr, asm.DWord),
		asm.StoreMem(asm.R8, recNr, asm.R1, asm.Word),
		asm.StoreImm(asm.R8, recCount, 0, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stFlags, asm.DWord),
		asm.StoreMem(asm.R8, recFlags, asm.R1, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Add.Imm(asm.R1, recComm),
		asm.Mov.Imm(asm.R2, commLen),
		asm.FnGetCurrentComm.Call(),

		// The walk.
		storeImm64(asm.R8, recBytes, 0),
		asm.StoreImm(asm.R8, recStatus, statusWalk, asm.Word),
		asm.Mov.Imm(asm.R1, maxSteps),
		asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R2, Src: asm.PseudoFunc, Constant: -1}.WithReference("step"),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, stWalk),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnLoop.Call(),
		asm.LoadMem(asm.R1, asm.R8, recStatus, asm.Word),
		asm.JEq.Imm(asm.R1, statusKnown, "beneath"),
		asm.JNE.Imm(asm.R1, statusWalk, "output"),
		asm.StoreImm(asm.R8, recStatus, Truncated, asm.Word), // steps ran out

		// The names go right after the keys used (a record holds only what it needs: a
		// flood of them fills the ring buffer less), copied forward within the record.
		asm.LoadMem(asm.R6, asm.R8, recCount, asm.Word).WithSymbol("output"),
		asm.JGT.Imm(asm.R6, maxComponents, "exit"), // for the verifier
		asm.Mul.Imm(asm.R6, keySize),
		asm.LoadMem(asm.R2, asm.R8, recBytes, asm.DWord),
		asm.JGT.Imm(asm.R2, namesMax+nameMax, "exit"), // for the verifier
		asm.JEq.Imm(asm.R2, 0, "send"),
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Add.Imm(asm.R1, recKeys),
		asm.Add.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R3, asm.R8),
		asm.Add.Imm(asm.R3, recHeader),
		asm.FnProbeReadKernel.Call(),
		asm.LoadMem(asm.R3, asm.R8, recBytes, asm.DWord).WithSymbol("send"),
		asm.JGT.Imm(asm.R3, namesMax+nameMax, "exit"), // for the verifier
		asm.Add.Reg(asm.R3, asm.R6),
		asm.Add.Imm(asm.R3, recKeys),
		asm.LoadMapPtr(asm.R1, m.ring.FD()),
		asm.Mov.Reg(asm.R2, asm.R8),
		asm.Mov.Imm(asm.R4, ringFlags),
		asm.FnRingbufOutput.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
	)
	insns = append(insns, lookup(m.drops, stZero, "exit")...)
	insns = append(insns,
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),

		// A call that may have moved or removed a directory, done: if agentrun marked the
		// thread when it was notified of the call (Moving), the kernel's generation goes on
		// now that the call is done, so that a walk that ran beside it — and may have read a
		// path half old, half new — remembers nothing.
		asm.FnGetCurrentPidTgid.Call().WithSymbol("moved"),
		asm.StoreMem(asm.R10, stTmp, asm.R0, asm.Word), // the thread
	)
	insns = append(insns, lookup(m.moving, stTmp, "exit")...)
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, m.moving.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, stTmp),
		asm.FnMapDeleteElem.Call(),
		storeImm64(asm.R10, stZero, 0),
	)
	insns = append(insns, lookup(m.kgen, stZero, "exit")...)
	insns = append(insns,
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.Word),
		asm.Ja.Label("exit"),

		// Beneath a known directory: so is the file's own, which is known from now on, so
		// that the next open in it stops before the walk.
		asm.LoadMem(asm.R1, asm.R10, stKey+8, asm.DWord).WithSymbol("beneath"),
		asm.JEq.Imm(asm.R1, 0, "exit"), // no directory key
		asm.LoadMem(asm.R1, asm.R10, stGen, asm.Word),
		asm.StoreMem(asm.R10, stTmp, asm.R1, asm.Word),
		asm.StoreImm(asm.R10, stTmp+4, knownChildren|knownSubtree, asm.Word),
		asm.LoadMapPtr(asm.R1, m.known.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, stKey),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, stTmp),
		asm.Mov.Imm(asm.R4, 0), // BPF_ANY
		asm.FnMapUpdateElem.Call(),
		asm.Ja.Label("exit"),
	)
	return append(insns, stepProgram(o, m)...)
}

// stepProgram is the walk's step, bpf_loop's callback (index, walk state): one name of the
// path into the record, or one mount crossed; it returns 1 once the walk has ended (its
// status set), 0 to go on.
func stepProgram(o offsets, m maps) asm.Instructions {
	end := func(status int32, label string) asm.Instructions {
		return asm.Instructions{
			asm.StoreImm(asm.R8, recStatus, int64(status), asm.Word).WithSymbol(label),
			asm.Mov.Imm(asm.R0, 1),
			asm.Return(),
		}
	}
	insns := asm.Instructions{
		btf.WithFuncMetadata(asm.Mov.Reg(asm.R6, asm.R2), stepFunc).WithSymbol("step"),
		storeImm64(asm.R10, sfZero, 0),
	}
	insns = append(insns, lookup(m.scratch, sfZero, "s_stop")...)
	insns = append(insns,
		asm.Mov.Reg(asm.R8, asm.R0), // the record
		asm.LoadMem(asm.R7, asm.R6, wDentry, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, wRootDen, asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R7, "s_notroot"),
		asm.LoadMem(asm.R1, asm.R6, wRootMnt, asm.DWord),
		asm.LoadMem(asm.R2, asm.R6, wMnt, asm.DWord),
		asm.JEq.Reg(asm.R1, asm.R2, "s_root"),
		asm.LoadMem(asm.R9, asm.R6, wMnt, asm.DWord).WithSymbol("s_notroot"),
	)
	insns = append(insns, readPtr(asm.R9, o.vfsmountRoot)...)
	insns = append(insns, asm.JEq.Reg(asm.R0, asm.R7, "s_cross"))
	insns = append(insns, readPtr(asm.R7, o.dentryParent)...)
	insns = append(insns,
		asm.JEq.Reg(asm.R0, asm.R7, "s_detached"),
		asm.StoreMem(asm.R10, sfParent, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R8, recCount, asm.Word),
		asm.JGE.Imm(asm.R1, maxComponents, "s_truncated"),
		// The dentry's key, into the record; a directory known with all beneath it ends
		// the walk without a record.
		asm.LoadMem(asm.R1, asm.R6, wMnt, asm.DWord),
		asm.StoreMem(asm.R10, sfKey, asm.R1, asm.DWord),
		asm.StoreMem(asm.R10, sfKey+8, asm.R7, asm.DWord),
		storeImm64(asm.R10, sfKey+16, 0),
	)
	insns = append(insns, readPtr(asm.R7, o.dentryInode)...)
	insns = append(insns, asm.JEq.Imm(asm.R0, 0, "s_keyed"))
	insns = append(insns, readPtr(asm.R0, o.inodeIno)...)
	insns = append(insns, asm.StoreMem(asm.R10, sfKey+16, asm.R0, asm.DWord))
	insns = append(insns,
		// Not the file itself: a known directory opened is recorded (were it not, its own
		// directory would be taken for one beneath it).
		asm.LoadMem(asm.R1, asm.R8, recCount, asm.Word),
		asm.JEq.Imm(asm.R1, 0, "s_keyed"),
	)
	insns = append(insns, lookup(m.known, sfKey, "s_keyed")...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R0, 4, asm.Word),
		asm.JSet.Imm(asm.R1, knownSubtree, "s_subtree"),
		asm.Ja.Label("s_keyed"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word).WithSymbol("s_subtree"),
		asm.LoadMem(asm.R2, asm.R8, recGen, asm.Word),
		asm.JEq.Reg(asm.R1, asm.R2, "s_known"),
		asm.LoadMem(asm.R1, asm.R8, recCount, asm.Word).WithSymbol("s_keyed"),
		asm.And.Imm(asm.R1, maxComponents-1), // for the verifier: already below
		asm.Mul.Imm(asm.R1, keySize),
		asm.Add.Reg(asm.R1, asm.R8),
		asm.LoadMem(asm.R2, asm.R10, sfKey, asm.DWord),
		asm.StoreMem(asm.R1, recKeys, asm.R2, asm.DWord),
		asm.LoadMem(asm.R2, asm.R10, sfKey+8, asm.DWord),
		asm.StoreMem(asm.R1, recKeys+8, asm.R2, asm.DWord),
		asm.LoadMem(asm.R2, asm.R10, sfKey+16, asm.DWord),
		asm.StoreMem(asm.R1, recKeys+16, asm.R2, asm.DWord),
		asm.LoadMem(asm.R9, asm.R8, recBytes, asm.DWord),
		asm.JGE.Imm(asm.R9, namesMax, "s_truncated"),
	)
	insns = append(insns, readPtr(asm.R7, o.dentryName)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R3, asm.R0),
		asm.And.Imm(asm.R9, namesMax-1), // for the verifier: already below namesMax
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Add.Imm(asm.R1, recHeader),
		asm.Add.Reg(asm.R1, asm.R9),
		asm.Mov.Imm(asm.R2, nameMax),
		asm.FnProbeReadKernelStr.Call(),
		asm.JSLE.Imm(asm.R0, 0, "s_nameerr"),
		asm.JSGT.Imm(asm.R0, nameMax, "s_nameerr"),
		asm.Add.Reg(asm.R9, asm.R0),
		asm.StoreMem(asm.R8, recBytes, asm.R9, asm.DWord),
		asm.LoadMem(asm.R1, asm.R8, recCount, asm.Word),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R8, recCount, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, sfParent, asm.DWord),
		asm.StoreMem(asm.R6, wDentry, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		// At the mount's root: on to its mount point in the parent mount.
		asm.Sub.Imm(asm.R9, o.mountMnt).WithSymbol("s_cross"), // struct mount *
		asm.StoreMem(asm.R10, sfMount, asm.R9, asm.DWord),
	)
	insns = append(insns, readPtr(asm.R9, o.mountParent)...)
	insns = append(insns,
		asm.LoadMem(asm.R9, asm.R10, sfMount, asm.DWord),
		asm.JEq.Reg(asm.R0, asm.R9, "s_outside"),
		asm.JEq.Imm(asm.R0, 0, "s_outside"),
		asm.StoreMem(asm.R10, sfParent, asm.R0, asm.DWord),
	)
	insns = append(insns, readPtr(asm.R9, o.mountPoint)...)
	insns = append(insns,
		asm.StoreMem(asm.R6, wDentry, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R10, sfParent, asm.DWord),
		asm.Add.Imm(asm.R1, o.mountMnt),
		asm.StoreMem(asm.R6, wMnt, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	)
	insns = append(insns, end(Complete, "s_root")...)
	insns = append(insns, end(Truncated, "s_truncated")...)
	insns = append(insns, end(Outside, "s_outside")...)
	insns = append(insns, end(Detached, "s_detached")...)
	insns = append(insns, end(NameErr, "s_nameerr")...)
	insns = append(insns, end(statusKnown, "s_known")...)
	return append(insns,
		asm.Mov.Imm(asm.R0, 1).WithSymbol("s_stop"), // no record: nothing to walk for
		asm.Return(),
	)
}

// The functions' BTF: bpf_loop wants its callback described (static, two arguments).
var (
	u64Type  = &btf.Int{Name: "u64", Size: 8}
	longType = &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	voidPtr  = &btf.Pointer{Target: &btf.Void{}}
	mainFunc = &btf.Func{Name: "kopens_exit", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{
		Return: longType, Params: []btf.FuncParam{{Name: "ctx", Type: voidPtr}},
	}}
	stepFunc = &btf.Func{Name: "kopens_step", Linkage: btf.StaticFunc, Type: &btf.FuncProto{
		Return: longType, Params: []btf.FuncParam{{Name: "index", Type: u64Type}, {Name: "walk", Type: voidPtr}},
	}}
)

// storeImm64 is `*(u64 *)(dst + off) = imm`, the 32-bit imm sign-extended (BPF_ST | BPF_DW),
// which asm.StoreImm does not make.
func storeImm64(dst asm.Register, off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: imm}
}
