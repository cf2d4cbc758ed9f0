package profiles

// File is one profile as written in YAML, before merging and expansion. Every field keeps the
// position it was read from, so later checks can name the line. The yaml tags are the format's
// keys: the decoder accepts exactly these, and the JSON Schema is checked against them.
type File struct {
	Source string `yaml:"-"` // where it was read from: a path, or "builtin/NAME.yaml"

	Name        Scalar             `yaml:"name"`
	Description Scalar             `yaml:"description"`
	Extends     []Scalar           `yaml:"extends"`
	Match       []Scalar           `yaml:"match"`
	Mode        Scalar             `yaml:"mode"`
	Filesystem  *FilesystemSection `yaml:"filesystem"`
	Exec        *ExecSection       `yaml:"exec"`
	Network     *NetworkSection    `yaml:"network"`
	Resources   *ResourcesSection  `yaml:"resources"`
	Env         *EnvSection        `yaml:"env"`

	checked *checked // filled by validation
}

// Scalar is a string value with its position. Set is false when the key was absent.
type Scalar struct {
	Value string
	Pos   Pos
	Set   bool
	Tag   string // the YAML type it was written as: "!!str", "!!int", "!!float", "!!bool"
}

// FilesystemSection lists path patterns by the access they get.
type FilesystemSection struct {
	Read    []Scalar `yaml:"read"`
	Write   []Scalar `yaml:"write"`
	Deny    []Scalar `yaml:"deny"`
	Protect []Scalar `yaml:"protect"`
	// Review lists files the agent may write whose keys that start programs (hooks, MCP
	// servers, …) are held back after the run until the user accepts them.
	Review []Scalar `yaml:"review"`
	// Sockets are the host's pathname unix sockets the agent may connect and send to (an
	// ssh-agent, a docker socket); exact paths, no globs. Sockets elsewhere are refused.
	Sockets []Scalar `yaml:"sockets"`
}

// ExecSection lists the executables the agent may and may not run.
type ExecSection struct {
	Allow []Scalar `yaml:"allow"`
	Deny  []Scalar `yaml:"deny"`
}

// NetworkSection is either the word "none" (None set) or a mapping of allow rules.
type NetworkSection struct {
	None    bool     `yaml:"-"`
	NonePos Pos      `yaml:"-"`
	Allow   []Scalar `yaml:"allow"`
	UDP     []Scalar `yaml:"udp"`
}

// ResourcesSection holds the limits. Memory is a size such as "8GiB", CPU a number of CPUs.
type ResourcesSection struct {
	Memory Scalar `yaml:"memory"`
	Pids   Scalar `yaml:"pids"`
	CPU    Scalar `yaml:"cpu"`
}

// EnvSection says which host variables the agent sees and which are set for it.
type EnvSection struct {
	Pass []Scalar `yaml:"pass"`
	Set  []EnvVar `yaml:"set"`
}

// EnvVar is one entry of env.set.
type EnvVar struct {
	Name  Scalar
	Value Scalar
}
