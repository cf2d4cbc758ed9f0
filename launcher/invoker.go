package launcher

import (
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
)

// Invoker is the user agentrun acts for: under sudo, the user who ran sudo, so that
// `sudo agentrun -- claude` confines Claude Code as that user, in their home; otherwise the
// process's own user.
type Invoker struct {
	UID, GID int
	Groups   []int
	Name     string
	Home     string
	Sudo     bool // the identity comes from SUDO_UID
}

// CurrentInvoker is the invoking user, worked out once per process (the launch asks for it
// several times; under sudo each answer would read the user database).
var CurrentInvoker = sync.OnceValue(currentInvoker)

func currentInvoker() Invoker {
	inv := Invoker{UID: os.Getuid(), GID: os.Getgid()}
	inv.Groups, _ = os.Getgroups()
	if os.Geteuid() != 0 {
		return inv
	}
	uid, err := strconv.Atoi(os.Getenv("SUDO_UID"))
	if err != nil || uid == 0 {
		return inv
	}
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return inv
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return inv
	}
	inv = Invoker{UID: uid, GID: gid, Name: u.Username, Home: u.HomeDir, Sudo: true}
	if ids, err := u.GroupIds(); err == nil {
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

// setEnv replaces or adds variables, given as name, value pairs.
func setEnv(env []string, pairs ...string) []string {
	for i := 0; i+1 < len(pairs); i += 2 {
		name, value := pairs[i], pairs[i+1]
		kv := name + "=" + value
		replaced := false
		for j, e := range env {
			if strings.HasPrefix(e, name+"=") {
				env[j], replaced = kv, true
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env
}
