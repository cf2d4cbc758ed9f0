package userdirs

import (
	"path/filepath"
	"strconv"
)

// RuntimeKind says where a Runtime directory was found.
type RuntimeKind int

// The places of the sandboxes' runtime state, in the order they are tried.
const (
	RuntimeNone   RuntimeKind = iota // no home directory to put it in
	RuntimeSystem                    // /run/agentrun, for root
	RuntimeXDG                       // $XDG_RUNTIME_DIR/agentrun
	RuntimeLogin                     // /run/user/UID/agentrun, made by the login manager
	RuntimeCache                     // $XDG_CACHE_HOME/agentrun/run
)

// Runtime is where agentrun keeps the sandboxes' runtime state (their root skeletons, lock
// files) for this process: it belongs to the process's own user, not to the invoker, since
// the sandboxes are made with this process's rights.
type Runtime struct {
	Dir  string // the state root; "" for RuntimeNone
	Base string // the directory Dir was made in that agentrun does not own: $XDG_RUNTIME_DIR, /run/user/UID, $XDG_CACHE_HOME; "" for /run
	Kind RuntimeKind
}

// Own is the outermost directory agentrun makes for its runtime state: Dir, or for
// RuntimeCache the agentrun directory above it.
func (r Runtime) Own() string {
	if r.Kind == RuntimeCache {
		return filepath.Dir(r.Dir)
	}
	return r.Dir
}

// CurrentRuntime is the runtime state directory of this process: /run/agentrun for root;
// for other users $XDG_RUNTIME_DIR/agentrun, else /run/user/UID/agentrun when private says
// that directory is the user's own and closed to others (the login manager made it without
// saying so), else $XDG_CACHE_HOME/agentrun/run (~/.cache/agentrun/run). Never a shared
// directory such as /tmp, where another user could create it first.
func CurrentRuntime(private func(dir string) bool) Runtime {
	return runtimeDir(osProcess(), private)
}

func runtimeDir(p process, private func(string) bool) Runtime {
	if p.euid == 0 {
		return Runtime{Dir: "/run/agentrun", Kind: RuntimeSystem}
	}
	d := dirs(invoker(p), p)
	if d.RuntimeDir != "" {
		return Runtime{Dir: filepath.Join(d.RuntimeDir, "agentrun"), Base: d.RuntimeDir, Kind: RuntimeXDG}
	}
	if login := "/run/user/" + strconv.Itoa(p.uid); private(login) {
		return Runtime{Dir: filepath.Join(login, "agentrun"), Base: login, Kind: RuntimeLogin}
	}
	if d.CacheHome == "" {
		return Runtime{}
	}
	return Runtime{Dir: filepath.Join(d.CacheHome, "agentrun", "run"), Base: d.CacheHome, Kind: RuntimeCache}
}
