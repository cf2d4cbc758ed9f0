package kdenials

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// The layout shared by the program and the decoder. A record (ring buffer): host tgid u32, tid u32, nr u32, errno
// u32, args [6]u64, path spec u32, then each path's length as an int32 (the bytes read,
// terminating NUL included, or the negative errno of a failed read), the task's comm (16
// bytes, NUL-padded), then the paths' bytes, the second right after the first.
const (
	recTgid   = 0
	recTid    = 4
	recNr     = 8
	recErrno  = 12
	recArgs   = 16
	recSpec   = 64
	recLen1   = 68
	recLen2   = 72
	recComm   = 80
	commLen   = 16 // TASK_COMM_LEN
	recHeader = recComm + commLen

	pathMax     = 4096 // PATH_MAX: a longer path fails with ENAMETOOLONG before any check
	scratchSize = recHeader + 2*pathMax

	maxNr     = 1024 // beyond every native system call number of amd64 and arm64
	maxErrno  = 4095 // MAX_ERRNO
	ringBytes = 1 << 20

	// A pass-over's key (map kd_quiet): nr u32, errno u32, the Flags argument u64 (0 where the
	// call has none), then the path's bytes, NUL-padded to keyPathMax.
	keyNr      = 0
	keyErrno   = 4
	keyFlags   = 8
	keyPath    = 16
	keyPathMax = 256 // the NUL included: longer paths are always sent
	keySize    = keyPath + keyPathMax
	keyStack   = -64 - keySize // where the program builds it, below the slots it uses
	maxQuiet   = 1024          // keys kept, least recently used forgotten first (see load)
)

// pathSpec packs a call's path argument indexes, each plus one, in two nibbles (0: none), and
// its Flags in the third.
func pathSpec(c Call) uint32 {
	var spec uint32
	for i, p := range c.Paths {
		spec |= uint32(p+1) << (4 * i)
	}
	return spec | uint32(c.Flags)<<8
}

// maps are the programs' maps, made by Load and closed by the Watcher.
type maps struct {
	calls   *ebpf.Map // array [maxNr]u32: the path spec of each recorded call, or 0
	errnos  *ebpf.Map // array [maxErrno+1]u32: 1 for each recorded errno
	scratch *ebpf.Map // per-CPU array [1] of a record being built
	ring    *ebpf.Map // ring buffer of records
	drops   *ebpf.Map // array [1]u64: records lost to a full ring buffer
	// quiet is an LRU hash of pass-overs: a key (keySize bytes) to the monotonic time (ns)
	// until which a failure that makes it is not sent (PassOver); passed an array [1]u64,
	// the failures passed over.
	quiet, passed *ebpf.Map
	// next is a program array [1]: the program a successful call goes on to (Chain), if any;
	// chainOn an array [1]u32, 1 while one is chained; chained an array [maxNr]u32, 1 for
	// each call that goes on to it.
	next, chainOn, chained *ebpf.Map
}

// inNamespace returns at once (through label) unless the current task's PID namespace is ns.
// It is the path every system call on the host takes: one helper call and a test. It uses
// the stack at -8.
func inNamespace(ns PIDNamespace, label string) asm.Instructions {
	return asm.Instructions{
		asm.LoadImm(asm.R1, int64(ns.Dev), asm.DWord),
		asm.LoadImm(asm.R2, int64(ns.Ino), asm.DWord),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, -8),
		asm.Mov.Imm(asm.R4, 8), // sizeof(struct bpf_pidns_info)
		asm.FnGetNsCurrentPidTgid.Call(),
		asm.JNE.Imm(asm.R0, 0, label),
	}
}

// lookupSet looks the u32 key on the stack at key up in the array m and goes to label unless
// its value is set; the value is left in R1.
func lookupSet(m *ebpf.Map, key int32, label string) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, key),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, label),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.JEq.Imm(asm.R1, 0, label),
	}
}

// firstEntry leaves in R0 a pointer to entry 0 of the array m (its key on the stack at -24),
// going to label when there is none.
func firstEntry(m *ebpf.Map, label string) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, -24, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -24),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, label),
	}
}

// callNumber reads the system call's number from the registers (ctx in R6) to the stack at
// -40, going to "exit" when it cannot be read or is out of range; the number is left in R1.
func callNumber() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R9, asm.R6, 0, asm.DWord), // struct pt_regs *
		storeImm64(asm.R10, -40, 0),
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, -40),
		asm.Mov.Imm(asm.R2, 4),
		asm.Mov.Reg(asm.R3, asm.R9),
		asm.Add.Imm(asm.R3, int32(nrOffset)),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, "exit"),
		asm.LoadMem(asm.R1, asm.R10, -40, asm.Word),
		asm.JGE.Imm(asm.R1, maxNr, "exit"), // unsigned: -1 too
	}
}

// exitProgram runs at raw_syscalls/sys_exit (ctx: pt_regs *, long ret): a call asked for, of
// the namespace, that failed with an errno asked for, is sent as a record with its arguments,
// read from the caller's saved registers (a failed system call leaves them as they were, but
// where the return value overwrites the first: arm64's x0, kept in orig_x0), and its paths,
// read from the caller's memory. The test of the return value comes first: a successful system
// call goes on to the chained program (a tail call: Chain), if any, and otherwise that test is
// all it pays. Only one tracepoint: every attach waits for the kernel to patch its call sites.
func exitProgram(ns PIDNamespace, m maps) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 8, asm.DWord), // ret
		asm.JSGE.Imm(asm.R7, 0, "success"),
		asm.JSLT.Imm(asm.R7, -maxErrno, "exit"),
		asm.Neg.Imm(asm.R7, 0), // errno
		asm.StoreMem(asm.R10, -32, asm.R7, asm.Word),
	}
	insns = append(insns, lookupSet(m.errnos, -32, "exit")...)
	insns = append(insns, callNumber()...)
	insns = append(insns, lookupSet(m.calls, -40, "exit")...)
	insns = append(insns, asm.StoreMem(asm.R10, -48, asm.R1, asm.Word)) // the path spec
	insns = append(insns, inNamespace(ns, "exit")...)
	insns = append(insns, firstEntry(m.scratch, "exit")...)
	insns = append(insns,
		asm.Mov.Reg(asm.R8, asm.R0), // the record
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.R8, recTid, asm.R0, asm.Word),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.R8, recTgid, asm.R0, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, -40, asm.Word),
		asm.StoreMem(asm.R8, recNr, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, -32, asm.Word),
		asm.StoreMem(asm.R8, recErrno, asm.R1, asm.Word),
		// What the process is called: it may have ended by the time its record is read.
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Add.Imm(asm.R1, recComm),
		asm.Mov.Imm(asm.R2, commLen),
		asm.FnGetCurrentComm.Call(),
	)
	for i, off := range exitArgOffsets {
		// a failed read leaves the argument zero
		insns = append(insns,
			storeImm64(asm.R8, int16(recArgs+8*i), 0),
			asm.Mov.Reg(asm.R1, asm.R8),
			asm.Add.Imm(asm.R1, int32(recArgs+8*i)),
			asm.Mov.Imm(asm.R2, 8),
			asm.Mov.Reg(asm.R3, asm.R9),
			asm.Add.Imm(asm.R3, int32(off)),
			asm.FnProbeReadKernel.Call(),
		)
	}
	insns = append(insns,
		asm.LoadMem(asm.R9, asm.R10, -48, asm.Word), // spec
		asm.StoreMem(asm.R8, recSpec, asm.R9, asm.Word),
		asm.StoreImm(asm.R8, recLen1, 0, asm.Word),
		asm.StoreImm(asm.R8, recLen2, 0, asm.Word),
		asm.Mov.Imm(asm.R7, 0), // the bytes of paths read so far
	)
	insns = append(insns, readPath(0, "second")...)
	insns = append(insns, readPath(1, "output")...)
	insns = append(insns, passOver(m)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R3, asm.R7).WithSymbol("send"),
		asm.Add.Imm(asm.R3, recHeader),
		asm.LoadMapPtr(asm.R1, m.ring.FD()),
		asm.Mov.Reg(asm.R2, asm.R8),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnRingbufOutput.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
	)
	insns = append(insns, firstEntry(m.drops, "exit")...)
	insns = append(insns,
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),

		// Success: where a program is chained, a call it asked for goes on to it (it
		// returns for both); otherwise the test of chainOn, an inlined array lookup, is all
		// a successful call pays.
		storeImm64(asm.R10, -24, 0).WithSymbol("success"),
	)
	insns = append(insns, lookupSet(m.chainOn, -24, "exit")...)
	insns = append(insns,
		// The slot, chainOn's value less one (0): an index the verifier cannot know keeps
		// the JIT from patching a direct jump into this program at each Chain and Unchain,
		// which waits for the kernel's text patching (≈ 10 ms).
		asm.Sub.Imm(asm.R1, 1),
		asm.StoreMem(asm.R10, -24, asm.R1, asm.Word),
	)
	insns = append(insns, callNumber()...)
	insns = append(insns, lookupSet(m.chained, -40, "exit")...)
	return append(insns,
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, m.next.FD()),
		asm.LoadMem(asm.R3, asm.R10, -24, asm.Word),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	)
}

// passOver (at "output", the record in R8 complete) goes to "exit" without sending the
// record when its key is in m.quiet until a time not yet reached, and counts it; otherwise to
// "send". Only a call of one path of at most keyPathMax bytes (its NUL included) can be passed
// over. The key is built from the record itself, not read again from the caller's memory,
// which a thread of the caller may be changing: it is what the record would have said.
func passOver(m maps) asm.Instructions {
	insns := asm.Instructions{
		asm.LoadMem(asm.R1, asm.R8, recSpec, asm.Word).WithSymbol("output"),
		asm.RSh.Imm(asm.R1, 4),
		asm.And.Imm(asm.R1, 0xf),
		asm.JNE.Imm(asm.R1, 0, "send"), // a second path
		// The length as read: a failed read's negative errno is a large unsigned number.
		asm.LoadMem(asm.R1, asm.R8, recLen1, asm.Word),
		asm.JLT.Imm(asm.R1, 2, "send"),
		asm.JGT.Imm(asm.R1, keyPathMax, "send"),
		asm.StoreMem(asm.R10, -56, asm.R1, asm.DWord),
	}
	// The key is built on the stack: a map of one per processor could be overwritten by the
	// same program run for another task between the building and the lookup.
	for off := 0; off < keySize; off += 8 {
		insns = append(insns, storeImm64(asm.R10, int16(keyStack+off), 0))
	}
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R8, recNr, asm.Word),
		asm.StoreMem(asm.R10, keyStack+keyNr, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R8, recErrno, asm.Word),
		asm.StoreMem(asm.R10, keyStack+keyErrno, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R8, recSpec, asm.Word),
		asm.RSh.Imm(asm.R1, 8),
		asm.And.Imm(asm.R1, 0xf),
		asm.JEq.Imm(asm.R1, 0, "key path"),
		asm.Sub.Imm(asm.R1, 1),
		asm.JGT.Imm(asm.R1, 5, "send"),
		asm.LSh.Imm(asm.R1, 3),
		asm.Add.Reg(asm.R1, asm.R8),
		asm.LoadMem(asm.R1, asm.R1, recArgs, asm.DWord),
		asm.StoreMem(asm.R10, keyStack+keyFlags, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.R10).WithSymbol("key path"),
		asm.Add.Imm(asm.R1, keyStack+keyPath),
		asm.LoadMem(asm.R2, asm.R10, -56, asm.DWord),
		asm.JLT.Imm(asm.R2, 2, "send"),
		asm.JGT.Imm(asm.R2, keyPathMax, "send"),
		asm.Mov.Reg(asm.R3, asm.R8),
		asm.Add.Imm(asm.R3, recHeader),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, "send"),
		asm.LoadMapPtr(asm.R1, m.quiet.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, keyStack),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "send"),
		asm.LoadMem(asm.R9, asm.R0, 0, asm.DWord), // until
		asm.FnKtimeGetNs.Call(),
		asm.JGE.Reg(asm.R0, asm.R9, "send"),
	)
	insns = append(insns, firstEntry(m.passed, "exit")...)
	return append(insns,
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Ja.Label("exit"),
	)
}

// readPath copies path argument n (0 or 1) of the record in R8, whose spec is in R9, to the
// record after the R7 bytes already read, stores its length, adds the bytes read to R7, and
// goes on at next. A failed read (an unmapped address) stores the negative errno and no bytes.
func readPath(n int, next string) asm.Instructions {
	lenOff := int16(recLen1 + 4*n)
	var insns asm.Instructions
	if n == 0 {
		insns = append(insns, asm.Mov.Reg(asm.R1, asm.R9))
	} else {
		insns = append(insns,
			asm.Mov.Reg(asm.R1, asm.R9).WithSymbol("second"),
			asm.RSh.Imm(asm.R1, 4),
		)
	}
	return append(insns,
		asm.And.Imm(asm.R1, 0xf),
		asm.JEq.Imm(asm.R1, 0, "output"),
		asm.Sub.Imm(asm.R1, 1),
		asm.JGT.Imm(asm.R1, 5, "output"),
		asm.LSh.Imm(asm.R1, 3),
		asm.Add.Reg(asm.R1, asm.R8),
		asm.LoadMem(asm.R3, asm.R1, recArgs, asm.DWord), // the user's pointer
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Add.Imm(asm.R1, recHeader),
		asm.Add.Reg(asm.R1, asm.R7),
		asm.Mov.Imm(asm.R2, pathMax),
		asm.FnProbeReadUserStr.Call(),
		asm.StoreMem(asm.R8, lenOff, asm.R0, asm.Word),
		asm.JSLE.Imm(asm.R0, 0, next),
		asm.JSGT.Imm(asm.R0, pathMax, next),
		asm.Add.Reg(asm.R7, asm.R0),
		asm.Ja.Label(next),
	)
}

// storeImm64 is `*(u64 *)(dst + off) = imm`, the 32-bit imm sign-extended (BPF_ST | BPF_DW),
// which asm.StoreImm does not make.
func storeImm64(dst asm.Register, off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: imm}
}
