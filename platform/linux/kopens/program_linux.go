//go:build linux && amd64

package kopens

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// A record: host tgid u32, tid u32, task->pid (read through the BTF pointer) u32, the tgid in
// the namespace u32, nr u32, fd u32, components u32, status u32, the open flags as passed (the
// call's register: open's second argument, openat's third; 0 for openat2, whose flags are in
// memory) u32, 4 bytes unused, the task's comm (16 bytes), then the path's components, leaf
// first, each NUL-terminated.
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
	recComm   = 40
	commLen   = 16
	recHeader = recComm + commLen

	nameMax     = 256  // NAME_MAX plus its NUL
	namesMax    = 4096 // the bytes of components a record holds
	scratchSize = recHeader + namesMax + nameMax

	maxComponents = 16 // names recorded
	maxSteps      = 40 // loop iterations, mount crossings included

	ringBytes = 256 << 10
)

// A record's status.
const (
	statusRoot      = 0 // the walk reached the task's root
	statusTruncated = 1 // more than maxComponents names or maxSteps steps
	statusOutside   = 2 // the namespace's root mount was reached without meeting the task's root
	statusDetached  = 3 // a dentry that is its own parent (not at its mount's root)
	statusNameErr   = 4 // a name could not be read
)

// System call numbers of amd64.
const (
	nrOpen    = 2
	nrOpenat  = 257
	nrOpenat2 = 437
)

// Stack slots.
const (
	stPidns   = -8  // struct bpf_pidns_info
	stTmp     = -16 // target of probe reads
	stParent  = -24
	stRootDen = -32
	stRootMnt = -40
	stNr      = -48
	stSteps   = -56
	stZero    = -64 // the scratch map's key
)

type maps struct {
	scratch *ebpf.Map
	ring    *ebpf.Map
	drops   *ebpf.Map
}

// readPtr reads the kernel pointer at src+off into R0 (0 on a failed read), through stTmp.
func readPtr(src asm.Register, off int32) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, stTmp, 0, asm.DWord),
		asm.Mov.Reg(asm.R3, src),
		asm.Add.Imm(asm.R3, off),
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, stTmp),
		asm.Mov.Imm(asm.R2, 8),
		asm.FnProbeReadKernel.Call(),
		asm.LoadMem(asm.R0, asm.R10, stTmp, asm.DWord),
	}
}

// exitProgram runs at tp_btf/sys_exit (ctx: struct pt_regs *regs, long ret).
// rdonlyCast casts R1 to a read-only BTF pointer of type id in R0 (bpf_rdonly_cast, which the
// verifier inlines as a move): loads through it are direct (faults read as zero).
func rdonlyCast(o offsets, id btf.TypeID) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R2, int32(id)),
		{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: int64(o.rdonlyCast)},
	}
}

func exitProgram(o offsets, nsDev, nsIno uint64, tgid uint32, ringFlags int32, direct bool, m maps) asm.Instructions {
	readPtr := readPtr
	if direct {
		readPtr = func(src asm.Register, off int32) asm.Instructions {
			return asm.Instructions{asm.LoadMem(asm.R0, src, int16(off), asm.DWord)}
		}
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),               // the context, for the flags
		asm.LoadMem(asm.R7, asm.R1, 8, asm.DWord), // ret
		asm.JSLT.Imm(asm.R7, 0, "exit"),
		asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),                   // regs: a BTF pointer
		asm.LoadMem(asm.R2, asm.R2, int16(o.regsOrigAx), asm.DWord), // the call's number
		asm.JEq.Imm(asm.R2, nrOpenat, "isopen"),
		asm.JEq.Imm(asm.R2, nrOpen, "isopen"),
		asm.JEq.Imm(asm.R2, nrOpenat2, "isopen"),
		asm.Ja.Label("exit"),
		asm.StoreMem(asm.R10, stNr, asm.R2, asm.DWord).WithSymbol("isopen"),
		asm.LoadImm(asm.R1, int64(nsDev), asm.DWord),
		asm.LoadImm(asm.R2, int64(nsIno), asm.DWord),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, stPidns),
		asm.Mov.Imm(asm.R4, 8),
		asm.FnGetNsCurrentPidTgid.Call(),
		asm.JNE.Imm(asm.R0, 0, "exit"),
	}
	if tgid != 0 { // benchmarks: one process only
		insns = append(insns,
			asm.FnGetCurrentPidTgid.Call(),
			asm.RSh.Imm(asm.R0, 32),
			asm.JNE.Imm(asm.R0, int32(tgid), "exit"),
		)
	}
	insns = append(insns, firstEntry(m.scratch)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R8, asm.R0), // the record
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.R8, recTid, asm.R0, asm.Word),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.R8, recTgid, asm.R0, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stPidns+4, asm.Word), // bpf_pidns_info.tgid
		asm.StoreMem(asm.R8, recNsTgid, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stNr, asm.DWord),
		asm.StoreMem(asm.R8, recNr, asm.R1, asm.Word),
		asm.StoreMem(asm.R8, recFd, asm.R7, asm.Word),
		asm.StoreImm(asm.R8, recCount, 0, asm.Word),
		asm.StoreImm(asm.R8, recStatus, statusRoot, asm.Word),
		// The flags, from the registers (a BTF pointer): open's in si, openat's in dx.
		asm.StoreImm(asm.R8, recFlags, 0, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stNr, asm.DWord),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.DWord),
		asm.JEq.Imm(asm.R1, nrOpenat2, "comm"),
		asm.LoadMem(asm.R3, asm.R2, int16(o.regsDx), asm.DWord),
		asm.JNE.Imm(asm.R1, nrOpen, "flags"),
		asm.LoadMem(asm.R3, asm.R2, int16(o.regsSi), asm.DWord),
		asm.StoreMem(asm.R8, recFlags, asm.R3, asm.Word).WithSymbol("flags"),
		asm.Mov.Reg(asm.R1, asm.R8).WithSymbol("comm"),
		asm.Add.Imm(asm.R1, recComm),
		asm.Mov.Imm(asm.R2, commLen),
		asm.FnGetCurrentComm.Call(),

		// The task, through BTF: direct loads.
		asm.FnGetCurrentTaskBtf.Call(),
		asm.Mov.Reg(asm.R9, asm.R0),
		asm.LoadMem(asm.R1, asm.R9, int16(o.taskPid), asm.Word),
		asm.StoreMem(asm.R8, recPid, asm.R1, asm.Word),
		// The root: task->fs->root.
		asm.LoadMem(asm.R1, asm.R9, int16(o.taskFs), asm.DWord),
		asm.JEq.Imm(asm.R1, 0, "exit"),
		asm.LoadMem(asm.R2, asm.R1, int16(o.fsRootDentry), asm.DWord),
		asm.StoreMem(asm.R10, stRootDen, asm.R2, asm.DWord),
		asm.LoadMem(asm.R2, asm.R1, int16(o.fsRootMnt), asm.DWord),
		asm.StoreMem(asm.R10, stRootMnt, asm.R2, asm.DWord),
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
	if direct {
		insns = append(insns, asm.Mov.Reg(asm.R1, asm.R0))
		insns = append(insns, rdonlyCast(o, o.fileID)...)
		insns = append(insns, asm.Mov.Reg(asm.R9, asm.R0))
	}
	insns = append(insns, readPtr(asm.R9, o.fileMnt)...)
	insns = append(insns, asm.Mov.Reg(asm.R7, asm.R0)) // vfsmount
	insns = append(insns, readPtr(asm.R9, o.fileDentry)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R6, asm.R0), // dentry
		asm.Mov.Imm(asm.R9, 0),      // the bytes of names written
		asm.StoreImm(asm.R10, stSteps, 0, asm.DWord),

		// The walk: R6 dentry, R7 vfsmount, R8 record, R9 bytes written.
		asm.LoadMem(asm.R1, asm.R10, stSteps, asm.DWord).WithSymbol("loop"),
		asm.JGE.Imm(asm.R1, maxSteps, "truncated"),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R10, stSteps, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R10, stRootDen, asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R6, "notroot"),
		asm.LoadMem(asm.R1, asm.R10, stRootMnt, asm.DWord),
		asm.JEq.Reg(asm.R1, asm.R7, "output"),
	)
	notroot := readPtr(asm.R7, o.vfsmountRoot)
	notroot[0] = notroot[0].WithSymbol("notroot")
	insns = append(insns, notroot...)
	insns = append(insns, asm.JEq.Reg(asm.R0, asm.R6, "cross"))
	insns = append(insns, readPtr(asm.R6, o.dentryParent)...)
	insns = append(insns,
		asm.JEq.Reg(asm.R0, asm.R6, "detached"),
		asm.StoreMem(asm.R10, stParent, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R8, recCount, asm.Word),
		asm.JGE.Imm(asm.R1, maxComponents, "truncated"),
		asm.JGE.Imm(asm.R9, namesMax, "truncated"),
	)
	insns = append(insns, readPtr(asm.R6, o.dentryName)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R3, asm.R0),
		asm.And.Imm(asm.R9, namesMax-1), // for the verifier: already below namesMax
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Add.Imm(asm.R1, recHeader),
		asm.Add.Reg(asm.R1, asm.R9),
		asm.Mov.Imm(asm.R2, nameMax),
		asm.FnProbeReadKernelStr.Call(),
		asm.JSLE.Imm(asm.R0, 0, "nameerr"),
		asm.JSGT.Imm(asm.R0, nameMax, "nameerr"),
		asm.Add.Reg(asm.R9, asm.R0),
		asm.LoadMem(asm.R1, asm.R8, recCount, asm.Word),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R8, recCount, asm.R1, asm.Word),
		asm.LoadMem(asm.R6, asm.R10, stParent, asm.DWord),
		asm.Ja.Label("loop"),
	)
	// At the mount's root: on to its mount point in the parent mount.
	insns = append(insns, asm.Sub.Imm(asm.R7, o.mountMnt).WithSymbol("cross")) // struct mount *
	if direct {
		insns = append(insns, asm.Mov.Reg(asm.R1, asm.R7))
		insns = append(insns, rdonlyCast(o, o.mountID)...)
		insns = append(insns, asm.Mov.Reg(asm.R7, asm.R0))
	}
	insns = append(insns, readPtr(asm.R7, o.mountParent)...)
	insns = append(insns,
		asm.JEq.Reg(asm.R0, asm.R7, "outside"),
		asm.JEq.Imm(asm.R0, 0, "outside"),
		asm.StoreMem(asm.R10, stParent, asm.R0, asm.DWord),
	)
	insns = append(insns, readPtr(asm.R7, o.mountPoint)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.LoadMem(asm.R7, asm.R10, stParent, asm.DWord),
		asm.Add.Imm(asm.R7, o.mountMnt),
		asm.Ja.Label("loop"),

		asm.StoreImm(asm.R8, recStatus, statusTruncated, asm.Word).WithSymbol("truncated"),
		asm.Ja.Label("output"),
		asm.StoreImm(asm.R8, recStatus, statusOutside, asm.Word).WithSymbol("outside"),
		asm.Ja.Label("output"),
		asm.StoreImm(asm.R8, recStatus, statusDetached, asm.Word).WithSymbol("detached"),
		asm.Ja.Label("output"),
		asm.StoreImm(asm.R8, recStatus, statusNameErr, asm.Word).WithSymbol("nameerr"),

		asm.Mov.Reg(asm.R3, asm.R9).WithSymbol("output"),
		asm.JGT.Imm(asm.R3, namesMax+nameMax, "exit"), // for the verifier
		asm.Add.Imm(asm.R3, recHeader),
		asm.LoadMapPtr(asm.R1, m.ring.FD()),
		asm.Mov.Reg(asm.R2, asm.R8),
		asm.Mov.Imm(asm.R4, ringFlags),
		asm.FnRingbufOutput.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
	)
	insns = append(insns, firstEntry(m.drops)...)
	return append(insns,
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
}

// firstEntry leaves in R0 a pointer to entry 0 of the array map m (its key on the stack at
// stZero), going to "exit" when there is none.
func firstEntry(m *ebpf.Map) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, stZero, 0, asm.DWord),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, stZero),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
	}
}
