package mdm

import (
	"bytes"
	"fmt"
	"strings"

	"howett.net/plist"

	"github.com/agentrun/agentrun/profiles"
)

// FAAConfig is a Santa File Access Authorization policy, the plist Santa reads from its
// FileAccessPolicyPlist file or FileAccessPolicy key (northpole.dev, Configuration →
// File-Access Authorization). Only the documented keys agentrun writes are here.
type FAAConfig struct {
	Version    string               `plist:"Version"`
	WatchItems map[string]WatchItem `plist:"WatchItems"`
}

// WatchItem is one rule: the paths it watches, how, and the processes its RuleType names.
type WatchItem struct {
	Paths     []WatchPath  `plist:"Paths"`
	Options   WatchOptions `plist:"Options"`
	Processes []Process    `plist:"Processes,omitempty"`
}

// WatchPath is one watched path: a glob(3) pattern, matched as a literal path or, with
// IsPrefix, as a string prefix.
type WatchPath struct {
	Path     string `plist:"Path"`
	IsPrefix bool   `plist:"IsPrefix"`
}

// WatchOptions are a rule's options. AuditOnly is always written: Santa's default is true.
type WatchOptions struct {
	AllowReadAccess bool   `plist:"AllowReadAccess"`
	AuditOnly       bool   `plist:"AuditOnly"`
	RuleType        string `plist:"RuleType"`
	BlockMessage    string `plist:"BlockMessage,omitempty"`
}

// Process names processes by their code identity; every key given must match.
type Process struct {
	BinaryPath     string `plist:"BinaryPath,omitempty"`
	SigningID      string `plist:"SigningID,omitempty"`
	TeamID         string `plist:"TeamID,omitempty"`
	CDHash         string `plist:"CDHash,omitempty"`
	PlatformBinary bool   `plist:"PlatformBinary,omitempty"`
}

// The rule types agentrun writes: data-centric, only the listed processes reach the paths.
const RulePathsWithAllowedProcesses = "PathsWithAllowedProcesses"

// SantaOptions are what the FAA configuration needs beyond the policy.
type SantaOptions struct {
	// Home is the home directory the policy was resolved for (Env's), to find the well-known
	// secrets whose owners are known; empty means AnyHome.
	Home string
}

// SantaResult is a compiled FAA configuration and what it leaves out or widens, for the user.
type SantaResult struct {
	Plist []byte
	Notes []string
}

// ruleNameRE is what Santa accepts as a WatchItems key (1-64 characters).
var ruleNameRE = profiles.LazyRegexp(`^[A-Za-z0-9._:-]{1,64}$`)

// CompileSanta writes pol's denied paths (filesystem.deny) as an FAA configuration: each
// path readable and writable only by the processes that own it (Owners), by none where no
// owner is known. Audit mode writes AuditOnly rules. pol must be resolved with Env.
func CompileSanta(pol *profiles.Policy, o SantaOptions) (*SantaResult, error) {
	home := o.Home
	if home == "" {
		home = AnyHome
	}
	res := &SantaResult{}
	groups := map[string]*WatchItem{}
	seen := map[WatchPath]bool{}
	var order []string
	for _, r := range pol.Filesystem.Deny {
		if underWorkspace(r.Path) {
			res.Notes = append(res.Notes, fmt.Sprintf("%s (%s): left out: no workspace given (--workspace DIR)", r.Pattern, r.Origin))
			continue
		}
		paths, note, err := watchPaths(r)
		if err != nil {
			return nil, err
		}
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
		o := ownerOf(r.Path, home)
		it := groups[o.Name]
		if it == nil {
			it = &WatchItem{
				Options: WatchOptions{
					AuditOnly: pol.Mode == profiles.ModeAudit,
					RuleType:  RulePathsWithAllowedProcesses,
					BlockMessage: fmt.Sprintf("agentrun profile %s denies this path (filesystem.deny); %s",
						pol.Name, o.Why),
				},
				Processes: o.Processes,
			}
			groups[o.Name] = it
			order = append(order, o.Name)
		}
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				it.Paths = append(it.Paths, p)
			}
		}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("profile %s denies no path (filesystem.deny is empty): there is nothing for Santa to protect", pol.Name)
	}
	cfg := FAAConfig{Version: "agentrun-" + pol.Name, WatchItems: map[string]WatchItem{}}
	for _, g := range order {
		name := ruleName(pol.Name, g)
		if !ruleNameRE().MatchString(name) {
			return nil, fmt.Errorf("santa rule name %q: not 1-64 letters, digits, '.', ':', '-' or '_'", name)
		}
		it := groups[g]
		if len(it.Paths) == 0 {
			continue
		}
		cfg.WatchItems[name] = *it
	}
	out, err := encodePlist(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the santa configuration: %w", err)
	}
	res.Plist = out
	return res, nil
}

// ruleName is the WatchItems key of one owner group of a profile: agentrun.PROFILE.GROUP,
// with characters Santa refuses replaced and the profile's part shortened to fit 64.
func ruleName(profile, group string) string {
	clean := []byte(profile)
	for i, c := range clean {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0) {
			clean[i] = '_'
		}
	}
	max := 64 - len("agentrun..") - len(group)
	if len(clean) > max {
		clean = clean[:max]
	}
	return "agentrun." + string(clean) + "." + group
}

// encodePlist writes v as an XML property list, tab-indented as Apple's tools write them.
func encodePlist(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := plist.NewEncoderForFormat(&b, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
