package wsb

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
)

// Options are what a .wsb needs beyond the policy.
type Options struct {
	// Home is the user's home folder on the Windows host, such as C:\Users\ada.
	Home string
	// Workspace is the workspace folder on the Windows host, such as C:\src\project.
	Workspace string
	// Command is the command the sandbox runs at logon, in the workspace; empty: a cmd.exe
	// prompt there.
	Command []string
	// Lossy writes the .wsb although the policy has rules it cannot express, listing each.
	Lossy bool
	// IsDir, when set, reports whether a host path is an existing folder: roots that are not
	// are left out (a missing HostFolder stops the sandbox from starting, and a file cannot
	// be mapped). Nil, as when compiling away from the Windows host: every root is mapped.
	IsDir func(hostPath string) bool
}

// Sentinel errors of Options.Check.
var (
	ErrNoHome      = errors.New("no Windows home folder")
	ErrNoWorkspace = errors.New("no Windows workspace folder")
)

// Check reports what is missing or malformed in o.
func (o Options) Check() error {
	if o.Home == "" {
		return ErrNoHome
	}
	if !windowsAbs(o.Home) {
		return fmt.Errorf("the home %q is not an absolute Windows path such as C:\\Users\\ada", o.Home)
	}
	if o.Workspace == "" {
		return ErrNoWorkspace
	}
	if !windowsAbs(o.Workspace) {
		return fmt.Errorf("the workspace %q is not an absolute Windows path such as C:\\src\\project", o.Workspace)
	}
	return nil
}

// windowsAbs reports whether p is a drive path (C:\...) or a UNC path (\\server\share\...).
func windowsAbs(p string) bool {
	if strings.ContainsAny(p, "\x00\r\n\"<>|?*") {
		return false
	}
	if len(p) >= 3 && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') && p[1] == ':' && p[2] == '\\' {
		return !strings.Contains(p[2:], ":")
	}
	return strings.HasPrefix(p, `\\`) && len(p) > 2 && !strings.Contains(p, ":")
}

// Lost is one rule of the policy a .wsb cannot express.
type Lost struct {
	Origin profiles.Pos // where the rule is written; empty for the mode and the limits
	Rule   string       // the rule, as "filesystem.deny $WORKSPACE/.env"
	Why    string       // why a .wsb cannot hold it
}

// String is the rule, where it is written and why it is lost, safe for a terminal.
func (l Lost) String() string { return clean(l.text()) }

// clean escapes what display.Escape escapes (control, format and bidi characters) except
// the backslash, which Windows paths are full of and which is harmless on a terminal.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		if e := display.Escape(string(r)); r != '\\' && e != string(r) {
			b.WriteString(e)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (l Lost) text() string {
	s := l.Rule + ": " + l.Why
	if o := l.Origin.String(); o != "" {
		s = o + ": " + s
	}
	return s
}

// LostError is the error of a strict compile of a policy with rules a .wsb cannot express.
type LostError struct {
	Profile string
	Lost    []Lost
}

func (e *LostError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the profile %s has %d rules a Windows Sandbox configuration cannot express:", clean(e.Profile), len(e.Lost))
	for _, l := range e.Lost {
		b.WriteString("\n  " + l.String())
	}
	return b.String()
}

// Hint is what to do about a LostError.
const Hint = "compile with --lossy to write the .wsb without these rules (each is listed on stderr and in the file), or run the profile with agentrun's AppContainer backend, which enforces them"

// Result is a compiled .wsb.
type Result struct {
	// WSB is the configuration, XML with comments.
	WSB []byte
	// Lost are the rules given up (only with Options.Lossy).
	Lost []Lost
	// Notes are what differs from a run on the host without weakening the policy, for the
	// user to read; the file has each as a comment too.
	Notes []string
}

// Compile turns a policy resolved for Env into a .wsb that runs o.Command under it.
func Compile(pol *profiles.Policy, o Options) (*Result, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	c := &compiler{pol: pol, o: o}
	c.folders()
	c.fileRules()
	c.execRules()
	c.network()
	c.modeAndLimits()
	cmd, err := c.command()
	if err != nil {
		return nil, err
	}
	if len(c.lost) > 0 && !o.Lossy {
		return nil, &LostError{Profile: pol.Name, Lost: c.lost}
	}
	cfg := Configuration{
		VGpu:                 Disable,
		Networking:           Disable,
		LogonCommand:         &LogonCommand{Command: cmd},
		AudioInput:           Disable,
		VideoInput:           Disable,
		ProtectedClient:      Enable,
		PrinterRedirection:   Disable,
		ClipboardRedirection: Disable,
		MemoryInMB:           memoryMiB(pol),
	}
	if !pol.Network.None() {
		cfg.Networking = Enable
	}
	if len(c.mapped) > 0 {
		cfg.MappedFolders = &MappedFolders{}
		for _, m := range c.mapped {
			cfg.MappedFolders.MappedFolder = append(cfg.MappedFolders.MappedFolder, m.MappedFolder)
		}
	}
	out, err := c.write(cfg)
	if err != nil {
		return nil, err
	}
	return &Result{WSB: out, Lost: c.lost, Notes: c.notes}, nil
}

type compiler struct {
	pol    *profiles.Policy
	o      Options
	mapped []mapping
	lost   []Lost
	notes  []string
}

// mapping is a MappedFolder and the stand-in path it maps.
type mapping struct {
	MappedFolder
	path string
}

func (c *compiler) lose(origin profiles.Pos, rule, why string) {
	c.lost = append(c.lost, Lost{Origin: origin, Rule: rule, Why: why})
}

func (c *compiler) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// folders maps the workspace and the read and write roots under the home. A root inside
// another mapped with at least its access is left out; a writable root inside a read-only
// one is mapped after it.
func (c *compiler) folders() {
	type root struct {
		rule     profiles.PathRule
		readOnly bool
	}
	var roots []root
	for _, r := range c.pol.Filesystem.Write {
		roots = append(roots, root{r, false})
	}
	for _, r := range c.pol.Filesystem.Read {
		roots = append(roots, root{r, true})
	}
	var unmapped, missing []string
	covered := func(p string, readOnly bool) bool {
		for _, m := range c.mapped {
			if _, in := under(p, m.path); in && (readOnly || !m.ReadOnly) {
				return true
			}
		}
		return false
	}
	// Parents before children, so that covered sees the wider root first.
	sort.SliceStable(roots, func(i, j int) bool { return len(roots[i].rule.Path) < len(roots[j].rule.Path) })
	for _, r := range roots {
		p := r.rule.Path
		pl, ok := c.locate(p)
		if !ok || globIndex(p) >= 0 {
			unmapped = append(unmapped, r.rule.Pattern)
			continue
		}
		if covered(p, r.readOnly) {
			continue
		}
		if c.o.IsDir != nil && !c.o.IsDir(pl.host) {
			missing = append(missing, pl.host)
			continue
		}
		c.mapped = append(c.mapped, mapping{MappedFolder{HostFolder: pl.host, SandboxFolder: pl.sandbox, ReadOnly: r.readOnly}, p})
	}
	if _, ok := under(standInWorkspace, standInWorkspace); ok && !covered(standInWorkspace, false) {
		pl, _ := c.locate(standInWorkspace)
		c.mapped = append(c.mapped, mapping{MappedFolder{HostFolder: pl.host, SandboxFolder: pl.sandbox, ReadOnly: !c.writes(standInWorkspace)}, standInWorkspace})
	}
	sort.SliceStable(c.mapped, func(i, j int) bool {
		wi, wj := c.mapped[i].path == standInWorkspace, c.mapped[j].path == standInWorkspace
		if wi != wj {
			return wi
		}
		return c.mapped[i].SandboxFolder < c.mapped[j].SandboxFolder
	})
	if len(unmapped) > 0 {
		c.note("not mapped, as they have no Windows meaning or are globs (the sandbox has its own Windows, programs and %%TEMP%%; less access, not more): %s", strings.Join(dedupe(unmapped), ", "))
	}
	if len(missing) > 0 {
		c.note("not mapped, as they are not folders on this host: %s", strings.Join(missing, ", "))
	} else if c.o.IsDir == nil {
		c.note("every HostFolder must exist as a folder on the Windows host, or Windows Sandbox refuses the configuration: delete the MappedFolder of any that does not, or compile on that host")
	}
	if len(c.pol.Filesystem.Sockets) > 0 {
		c.note("unix sockets are not shared with the sandbox: %d sockets rules give no access", len(c.pol.Filesystem.Sockets))
	}
}

// writes reports whether a write root covers p.
func (c *compiler) writes(p string) bool {
	for _, r := range c.pol.Filesystem.Write {
		if _, in := under(p, r.Path); in {
			return true
		}
	}
	return false
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// fileRules gives up the deny and protect rules a mapped folder would break: a path inside
// a mapped folder (or a mapped folder inside the path) is visible in the sandbox as the
// folder is, all of it, except that a protected path in a read-only folder stays read-only.
// Review rules have no after-run step in a VM.
func (c *compiler) fileRules() {
	check := func(kind string, rules []profiles.PathRule, protect bool) {
		for _, r := range rules {
			fixed := fixedDir(r.Path)
			for _, m := range c.mapped {
				_, inside := under(fixed, m.path)
				_, above := under(m.path, fixed)
				if !inside && !above || protect && m.ReadOnly {
					continue
				}
				where := "inside the mapped folder " + m.SandboxFolder
				if !inside {
					where = "above the mapped folder " + m.SandboxFolder
				}
				verb := "readable"
				if protect {
					verb = "writable"
				}
				c.lose(r.Origin, kind+" "+r.Pattern, where+", which is "+verb+" whole")
				break
			}
		}
	}
	check("filesystem.deny", c.pol.Filesystem.Deny, false)
	check("filesystem.protect", c.pol.Filesystem.Protect, true)
	for _, r := range c.pol.Filesystem.Review {
		c.lose(r.Origin, "filesystem.review "+r.Pattern, "a throw-away VM has no review of written files after the run")
	}
}

func (c *compiler) execRules() {
	for _, r := range c.pol.Exec.Allow {
		c.lose(r.Origin, "exec.allow "+r.Pattern, "a .wsb cannot limit what runs in the sandbox")
	}
	for _, r := range c.pol.Exec.Deny {
		c.lose(r.Origin, "exec.deny "+r.Pattern, "a .wsb cannot limit what runs in the sandbox")
	}
}

func (c *compiler) network() {
	why := "a .wsb has networking on or off, no filter: with networking on the sandbox reaches every address, the host's network and cloud metadata included"
	for _, r := range c.pol.Network.Allow {
		c.lose(r.Origin, "network.allow "+netRule(r), why)
	}
	for _, r := range c.pol.Network.UDP {
		c.lose(r.Origin, "network.udp "+netRule(r), why)
	}
}

// netRule writes a network rule as a profile does.
func netRule(r profiles.NetRule) string {
	host := r.Host
	switch {
	case r.Prefix.IsValid():
		host = r.Prefix.String()
	case r.Wildcard:
		host = "*." + host
	}
	var ports []string
	for _, p := range r.Ports {
		if p.From == p.To {
			ports = append(ports, fmt.Sprint(p.From))
		} else {
			ports = append(ports, fmt.Sprintf("%d-%d", p.From, p.To))
		}
	}
	if len(ports) == 0 {
		return host
	}
	return host + ":" + strings.Join(ports, ",")
}

func (c *compiler) modeAndLimits() {
	if c.pol.Mode == profiles.ModeAudit {
		c.lose(profiles.Pos{}, "mode: audit", "a VM records no events: what would be denied is neither allowed knowingly nor reported")
	}
	if n := c.pol.Resources.Pids; n > 0 {
		c.lose(profiles.Pos{}, fmt.Sprintf("resources.pids %d", n), "a .wsb has no process limit")
	}
	if n := c.pol.Resources.MilliCPU; n > 0 {
		c.lose(profiles.Pos{}, fmt.Sprintf("resources.cpu %dm", n), "a .wsb has no CPU limit")
	}
	if len(c.pol.Env.Pass) > 0 {
		c.note("no variable passes from the host's environment (env.pass): set API keys inside the sandbox, or in a profile's env.set")
	}
}

// memoryMiB is the memory limit in MiB, rounded up: the profile's, else the launch's default
// limit, else profiles.DefaultLimits.
func memoryMiB(pol *profiles.Policy) int64 {
	b := pol.Resources.With(pol.DefaultResources).With(profiles.DefaultLimits).MemoryBytes
	return (b + 1<<20 - 1) >> 20
}

// command is the logon command: cd to the workspace, env.set, then the command.
func (c *compiler) command() (string, error) {
	var env []setting
	for _, s := range c.pol.Env.Set {
		v := s.Value
		if strings.HasPrefix(v, "/") {
			pl, ok := c.locate(v)
			if !ok {
				c.lose(s.Origin, "env.set "+s.Name, "its path "+v+" has no place in the sandbox")
				continue
			}
			v = pl.sandbox
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			c.lose(s.Origin, "env.set "+s.Name, "a cmd.exe command line cannot carry a line break")
			continue
		}
		env = append(env, setting{s.Name, v})
	}
	cmd, err := logonCommand(SandboxWorkspace, env, c.o.Command)
	if err != nil {
		return "", fmt.Errorf("writing the logon command: %w", err)
	}
	return cmd, nil
}

// write encodes cfg after a comment that says where it comes from, what it gave up and the
// notes. Profile text in comments is escaped, and "--" (which ends an XML comment) broken.
func (c *compiler) write(cfg Configuration) ([]byte, error) {
	var b bytes.Buffer
	comment := func(lines ...string) {
		b.WriteString("<!--\n")
		for _, l := range lines {
			l = clean(l)
			for strings.Contains(l, "--") {
				l = strings.ReplaceAll(l, "--", "- -")
			}
			b.WriteString("  " + l + "\n")
		}
		b.WriteString("-->\n")
	}
	chain := ""
	if len(c.pol.Chain) > 0 {
		chain = " (chain " + strings.Join(c.pol.Chain, ", ") + ")"
	}
	head := []string{
		"Generated by agentrun compile -t wsb from the profile " + c.pol.Name + chain + ".",
		"Do not edit: change the profile and compile again. Open it with WindowsSandbox.exe FILE.wsb.",
		"Home " + c.o.Home + " is mapped to " + SandboxHome + ", the workspace " + c.o.Workspace + " to " + SandboxWorkspace + ".",
	}
	if len(c.lost) > 0 {
		head = append(head, "", fmt.Sprintf("Given up (lossy), %d rules a .wsb cannot express:", len(c.lost)))
		for _, l := range c.lost {
			head = append(head, "  "+l.text())
		}
	}
	if len(c.notes) > 0 {
		head = append(head, "", "Notes:")
		for _, n := range c.notes {
			head = append(head, "  "+n)
		}
	}
	comment(head...)
	return appendXML(&b, &cfg)
}

// appendXML writes cfg, indented, after what b holds, and returns the whole file.
func appendXML(b *bytes.Buffer, cfg *Configuration) ([]byte, error) {
	enc := xml.NewEncoder(b)
	enc.Indent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("writing the .wsb: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
