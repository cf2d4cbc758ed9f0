// Package rootfs builds a sandbox's root from the mount plan's steps, inside the stage's own
// mount namespace, and enters it: binds of the host's trees resolved inside the new root and
// never outside it, agentrun's own file systems, files and links, idmapped binds.
// platform/linux plans the steps; this package only carries them out, and imports nothing of
// agentrun's (a stage binary of its own would need nothing more: see docs/decisions.md).
package rootfs

// OpKind is what one step of building the sandbox's root does.
type OpKind string

const (
	OpBind OpKind = "bind" // the host's tree at Dst bound, recursively, at the same path
	OpSelf OpKind = "self" // a path of the new root (Src) bound at Dst: masks and read-only /proc parts
	OpFS   OpKind = "fs"   // a new file system of type Src at Dst, with Data as its options
	OpFile OpKind = "file" // a file at Dst in agentrun's own tmpfs, holding Data, mode Mode
	OpLink OpKind = "link" // a symlink at Dst to Src
)

// MountOp is one step of building the sandbox's root, in order. Dst is a path in the sandbox;
// the stage resolves it inside the new root and never outside it.
type MountOp struct {
	Kind  OpKind
	Src   string // self: the path in the root; fs: the type; link: the target
	Dst   string
	Dir   bool   // the mount point is a directory (binds: the source is)
	Flags uint64 // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC (recursive on binds)
	Data  string // fs: options; file: content
	Mode  uint32 // file: permissions
	Own   bool   // fs: agentrun's tmpfs, in which mount points may be made
	Quiet bool   // a missing mount point is skipped, not an error
	IDMap bool   // bind: shown through the sandbox's idmapping (see IDMapping)
}
