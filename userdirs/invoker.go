package userdirs

import (
	"os"
	"strconv"
	"sync"

	"github.com/agentrun/agentrun/platform/safefs"
)

// Invoker is the user agentrun acts for: under sudo, the user who ran sudo, so that
// `sudo agentrun -- claude` confines Claude Code as that user, in their home; otherwise the
// process's own user.
type Invoker struct {
	UID, GID int
	Groups   []int
	Name     string // set only under sudo
	Home     string // set only under sudo; otherwise see Dirs.Home
	Sudo     bool   // the identity comes from SUDO_UID
}

// Current is the invoking user, worked out once per process (the launch asks for it several
// times; under sudo each answer would read the user database).
var Current = sync.OnceValue(func() Invoker { return invoker(osProcess()) })

// invoker takes SUDO_UID only from a process running as root, only for a user other than
// root that the user database knows, with a numeric primary group; anything else is the
// process's own user.
func invoker(p process) Invoker {
	inv := Invoker{UID: p.uid, GID: p.gid, Groups: p.groups}
	if p.euid != 0 {
		return inv
	}
	uid, err := strconv.Atoi(p.getenv("SUDO_UID"))
	if err != nil || uid == 0 {
		return inv
	}
	u, err := p.lookupID(strconv.Itoa(uid))
	if err != nil {
		return inv
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return inv
	}
	inv = Invoker{UID: uid, GID: gid, Name: u.Username, Home: u.HomeDir, Sudo: true}
	if ids, err := p.groupIDs(u); err == nil {
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil {
				inv.Groups = append(inv.Groups, n)
			}
		}
	}
	return inv
}

// SudoHome is the invoking user's home under sudo, and "" otherwise.
func (i Invoker) SudoHome() string {
	if i.Sudo {
		return i.Home
	}
	return ""
}

// FileIdentity is whose rights agentrun uses on the invoker's files: nil (the process's own)
// unless agentrun runs as root for another user — under sudo, or set-user-ID root — where
// every file of theirs it reads or writes is read or written with their file-system identity
// (safefs.AsUser), so that a link they plant cannot lend them root's rights.
func (i Invoker) FileIdentity() *safefs.Identity {
	if os.Geteuid() != 0 || i.UID == 0 {
		return nil
	}
	return &safefs.Identity{UID: i.UID, GID: i.GID, Groups: i.Groups}
}
