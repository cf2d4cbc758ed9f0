package profiles

// Policy is a resolved profile: merged with everything it extends, expanded for one launch,
// validated. Backends compile a Policy; they never see a File.
//
// Access rules: deny wins over everything, then protect (read-only), then write (which
// includes read), then read. exec.deny wins over exec.allow, and nothing under a denied path
// can be executed.
type Policy struct {
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Chain       []string         `json:"chain"` // the profiles merged, in the order applied
	Match       []string         `json:"match,omitempty"`
	Mode        Mode             `json:"mode"`
	Filesystem  FilesystemPolicy `json:"filesystem"`
	Exec        ExecPolicy       `json:"exec"`
	Network     NetworkPolicy    `json:"network"`
	Resources   Resources        `json:"resources"`
	// DefaultResources are the limits the launcher adds where the profile states none:
	// applied wherever agentrun can set cgroups, skipped (and said so) where it cannot.
	// Resources, which the profile states, are required: without cgroups the run fails.
	DefaultResources Resources `json:"default_resources,omitempty"`
	Env              EnvPolicy `json:"env"`
	Warnings         []Warning `json:"warnings,omitempty"`
}

// PathRule is one expanded path pattern. Path is absolute and canonical (symlinks resolved
// when the Env asks for it) and may contain * (within a name) and ** (any depth).
type PathRule struct {
	Path    string `json:"path"`
	Pattern string `json:"pattern"` // as written in the profile, e.g. "~/.ssh/id_*"
	Origin  Pos    `json:"origin"`
}

// FilesystemPolicy is the file access of the agent.
type FilesystemPolicy struct {
	Read    []PathRule `json:"read"`
	Write   []PathRule `json:"write"`
	Deny    []PathRule `json:"deny"`
	Protect []PathRule `json:"protect"`
	// Review are files the agent may write (each is in Write too) whose keys that start
	// programs are held back after the run for the user to accept.
	Review []PathRule `json:"review,omitempty"`
	// Sockets are the host unix sockets the agent may connect and send to, besides those in
	// the sandbox's own private directories.
	Sockets []PathRule `json:"sockets,omitempty"`
}

// ExecPolicy is what the agent may execute.
type ExecPolicy struct {
	Allow []PathRule `json:"allow"`
	Deny  []PathRule `json:"deny"`
}

// NetworkPolicy is where the agent may connect. With no rules, it has no network at all.
type NetworkPolicy struct {
	Allow []NetRule `json:"allow"`
	UDP   []NetRule `json:"udp"`
}

// None reports whether the policy gives the agent no network.
func (n NetworkPolicy) None() bool { return len(n.Allow) == 0 && len(n.UDP) == 0 }

// Resources are the limits of the agent's process tree; zero means no limit.
type Resources struct {
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	Pids        int64 `json:"pids,omitempty"`
	MilliCPU    int64 `json:"milli_cpu,omitempty"` // thousandths of a CPU
}

// DefaultLimits are every agent's limits where its profile states none. They keep a runaway
// agent (a fork bomb, a leak, /tmp filled) from taking the host down, and stay clear of real
// work: a 64-core build runs 64 jobs of a dozen or more threads each (every thread counts
// against pids; go build, cargo and node spawn many), and a large link or a language server
// takes some GiB. Raise them with resources: in a profile of your own.
var DefaultLimits = Resources{MemoryBytes: 8 << 30, Pids: 8192}

// Unstated returns the limits of def that r leaves unset.
func (r Resources) Unstated(def Resources) Resources {
	var out Resources
	if r.MemoryBytes == 0 {
		out.MemoryBytes = def.MemoryBytes
	}
	if r.Pids == 0 {
		out.Pids = def.Pids
	}
	if r.MilliCPU == 0 {
		out.MilliCPU = def.MilliCPU
	}
	return out
}

// With returns r with the unset limits taken from def.
func (r Resources) With(def Resources) Resources {
	d := r.Unstated(def)
	r.MemoryBytes += d.MemoryBytes
	r.Pids += d.Pids
	r.MilliCPU += d.MilliCPU
	return r
}

// EnvPolicy says which variables the agent sees. Pass entries are names or NAME* prefixes;
// the launcher never lets a prefix pass a variable that looks like a credential (a token, a
// password, an API key): only an entry that names it exactly does.
type EnvPolicy struct {
	Pass []string     `json:"pass"`
	Set  []EnvSetting `json:"set"`
}

// EnvSetting is a variable set for the agent whatever the host has.
type EnvSetting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Origin Pos    `json:"origin"`
}

// Warning is something legal but probably unintended in a resolved policy, such as a write
// root that a parent profile denies.
type Warning struct {
	Origin Pos    `json:"origin"`
	Msg    string `json:"msg"`
}

func (w Warning) String() string { return w.Origin.String() + ": " + w.Msg }

// OwnFilesOrigin is the origin of the deny rules agentrun adds to every policy at launch,
// whatever the profile says: its own state (the event store, with earlier runs' command
// lines), configuration (the user's profiles: an agent that edits its policy escalates) and
// runtime directories. They hold in audit mode too, as cloud metadata does.
var OwnFilesOrigin = Pos{File: "agentrun's own files"}

// OwnFiles reports whether a rule is one agentrun added for its own files.
func (r PathRule) OwnFiles() bool { return r.Origin == OwnFilesOrigin }
