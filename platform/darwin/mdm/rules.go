package mdm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/profiles"
)

// RuleFile is the JSON that santactl rule --import reads ({"rules": [...]}, santactl rule's
// help and Santa's SNTRule): the keys agentrun writes, as Santa spells them.
type RuleFile struct {
	Rules []Rule `json:"rules"`
}

// Rule is one Santa binary-authorization rule.
type Rule struct {
	Identifier string `json:"identifier"`
	Policy     string `json:"policy"`    // ALLOWLIST, BLOCKLIST, …
	RuleType   string `json:"rule_type"` // BINARY, SIGNINGID, TEAMID, CERTIFICATE, CDHASH
	CustomMsg  string `json:"custom_msg,omitempty"`
	Comment    string `json:"comment,omitempty"`
}

// Santa's rule policies and types agentrun writes.
const (
	PolicyAllowlist = "ALLOWLIST"
	RuleTypeBinary  = "BINARY"
)

// Executable is a program the profile's runs executed, from the event store.
type Executable struct {
	Path  string
	Count int64
}

// RulesOptions are what the rules need beyond the policy and the executables.
type RulesOptions struct {
	// Hash returns the SHA-256 of the file at path, as Santa computes a BINARY rule's
	// identifier (the whole file). Nil: hash nothing (the files are on another machine).
	Hash func(path string) (string, error)
}

// RulesResult is the rules JSON and what it leaves out, for the user.
type RulesResult struct {
	JSON []byte
	// Unhashed are the programs whose rule must be made on the Mac that runs them: each
	// a santactl command line.
	Unhashed []string
	Notes    []string
}

// CompileRules writes an ALLOWLIST rule for each program in exes, by the SHA-256 of its
// file (a BINARY rule, Santa's identifier for a file). A program under a directory the
// policy lets the agent write is left out, said in a note: allowing it would let the agent
// run anything it writes there. Without a hash (Hash nil or failing) a program gets no rule
// in the JSON — Santa refuses an import with a made-up identifier — but a santactl command
// that makes one on the Mac.
func CompileRules(pol *profiles.Policy, exes []Executable, o RulesOptions) (*RulesResult, error) {
	if len(exes) == 0 {
		return nil, fmt.Errorf("no program executed by profile %s in the event store: run the agent with --mode audit --trace for a while (the seed's week), then compile again", pol.Name)
	}
	exes = append([]Executable(nil), exes...)
	sort.Slice(exes, func(i, j int) bool { return exes[i].Path < exes[j].Path })
	res := &RulesResult{}
	file := RuleFile{Rules: []Rule{}}
	seen := map[string]bool{}
	for _, e := range exes {
		if seen[e.Path] || !strings.HasPrefix(e.Path, "/") {
			continue
		}
		seen[e.Path] = true
		if w := writableBy(pol, e.Path); w != "" {
			res.Notes = append(res.Notes, fmt.Sprintf("left out: %s is under %s, which the agent can write: an allowlisted path there lets it run anything it writes", display.Escape(e.Path), display.Escape(w)))
			continue
		}
		comment := fmt.Sprintf("agentrun %s: %s (seen %d times)", pol.Name, e.Path, e.Count)
		if o.Hash != nil {
			sum, err := o.Hash(e.Path)
			if err == nil {
				file.Rules = append(file.Rules, Rule{Identifier: sum, Policy: PolicyAllowlist, RuleType: RuleTypeBinary, Comment: comment})
				continue
			}
			res.Notes = append(res.Notes, fmt.Sprintf("not hashed: %v", err))
		}
		res.Unhashed = append(res.Unhashed, "santactl rule --allow --path "+shellQuote(e.Path)+" --comment "+shellQuote(comment))
	}
	out, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the santa rules: %w", err)
	}
	res.JSON = append(out, '\n')
	return res, nil
}

// writableBy is the write rule of pol that covers path, or "".
func writableBy(pol *profiles.Policy, path string) string {
	for _, w := range pol.Filesystem.Write {
		if profiles.IsPattern(w.Path) {
			if strings.HasPrefix(path, w.Path[:strings.IndexAny(w.Path, "*!")]) {
				return w.Pattern
			}
			continue
		}
		if within(path, w.Path) {
			return w.Pattern
		}
	}
	return ""
}

// HashFile is RulesOptions.Hash for the host that ran the programs: the SHA-256 of the
// regular file at path, opened without following a final symbolic link, checked to be the
// file it looked at.
func HashFile(path string) (string, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", display.Escape(path), err)
	}
	if !before.Mode().IsRegular() {
		return "", fmt.Errorf("hashing %s: not a regular file (%s)", display.Escape(path), before.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", display.Escape(path), err)
	}
	defer f.Close()
	after, err := f.Stat()
	if err != nil || !os.SameFile(before, after) {
		return "", fmt.Errorf("hashing %s: the file changed while it was opened", display.Escape(path))
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", display.Escape(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
