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
	Kind  OpKind `json:"k"`
	Src   string `json:"s,omitempty"` // self: the path in the root; fs: the type; link: the target
	Dst   string `json:"d"`
	Dir   bool   `json:"dir,omitempty"`   // the mount point is a directory (binds: the source is)
	Flags uint64 `json:"f,omitempty"`     // MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC (recursive on binds)
	Data  string `json:"o,omitempty"`     // fs: options; file: content
	Mode  uint32 `json:"m,omitempty"`     // file: permissions
	Own   bool   `json:"own,omitempty"`   // fs: agentrun's tmpfs, in which mount points may be made
	Quiet bool   `json:"quiet,omitempty"` // a missing mount point is skipped, not an error
	IDMap bool   `json:"idmap,omitempty"` // bind: shown through the sandbox's idmapping (see IDMapping)
}
