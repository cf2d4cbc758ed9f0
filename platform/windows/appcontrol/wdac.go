package appcontrol

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// SiPolicy is an App Control for Business (WDAC) policy in the multiple-policy format, as
// ConvertFrom-CIPolicy compiles it (Microsoft Learn, App Control: "Understand App Control
// policy rules and file rules", and the example base policies in
// %windir%\schemas\CodeIntegrity\ExamplePolicies). Only the elements agentrun writes are here.
type SiPolicy struct {
	XMLName             xml.Name          `xml:"urn:schemas-microsoft-com:sipolicy SiPolicy"`
	PolicyType          string            `xml:"PolicyType,attr"`
	VersionEx           string            `xml:"VersionEx"`
	PolicyID            string            `xml:"PolicyID"`
	BasePolicyID        string            `xml:"BasePolicyID"`
	PlatformID          string            `xml:"PlatformID"`
	Rules               []Rule            `xml:"Rules>Rule"`
	EKUs                struct{}          `xml:"EKUs"`
	FileRules           []Allow           `xml:"FileRules>Allow"`
	Signers             struct{}          `xml:"Signers"`
	SigningScenarios    []SigningScenario `xml:"SigningScenarios>SigningScenario"`
	UpdatePolicySigners struct{}          `xml:"UpdatePolicySigners"`
	CiSigners           struct{}          `xml:"CiSigners"`
	HvciOptions         int               `xml:"HvciOptions"`
	Settings            []Setting         `xml:"Settings>Setting"`
}

// Rule is one policy option.
type Rule struct {
	Option string `xml:"Option"`
}

// Allow is a file rule allowing files by path (FilePath) or by name (FileName).
type Allow struct {
	ID           string `xml:"ID,attr"`
	FriendlyName string `xml:"FriendlyName,attr"`
	FileName     string `xml:"FileName,attr,omitempty"`
	FilePath     string `xml:"FilePath,attr,omitempty"`
}

// SigningScenario is the rules of kernel mode (131) or user mode (12).
type SigningScenario struct {
	Value          int            `xml:"Value,attr"`
	ID             string         `xml:"ID,attr"`
	FriendlyName   string         `xml:"FriendlyName,attr"`
	ProductSigners ProductSigners `xml:"ProductSigners"`
}

// ProductSigners references the file rules a scenario allows.
type ProductSigners struct {
	FileRuleRefs []FileRuleRef `xml:"FileRulesRef>FileRuleRef"`
}

// FileRuleRef names one file rule by ID.
type FileRuleRef struct {
	RuleID string `xml:"RuleID,attr"`
}

// Setting is a policy setting: agentrun writes the policy's name and id (PolicyInfo).
type Setting struct {
	Provider  string `xml:"Provider,attr"`
	Key       string `xml:"Key,attr"`
	ValueName string `xml:"ValueName,attr"`
	Value     string `xml:"Value>String"`
}

// The App Control values agentrun writes.
const (
	// PlatformWindows is the PlatformID every published example policy carries.
	PlatformWindows = "{2E07F7E4-194C-4D20-B7C9-6F44A6C5A234}"
	OptionAuditMode = "Enabled:Audit Mode"
	OptionUMCI      = "Enabled:UMCI"
	OptionUnsigned  = "Enabled:Unsigned System Integrity Policy"
	ScenarioKernel  = 131
	ScenarioUser    = 12
)

// CompileWDAC writes pol's allowed programs as an audit-mode App Control base policy: user
// mode code integrity on, a FilePath rule per allowed location in the user-mode scenario (12),
// kernel drivers left alone (an allow-all rule in scenario 131); everything else is what App
// Control would block, logged.
func CompileWDAC(pol *profiles.Policy, o Options) (*Result, error) {
	as, notes, err := allows(pol, o)
	if err != nil {
		return nil, err
	}
	id := "{" + strings.ToUpper(guid("wdac", pol.Name)) + "}"
	doc := SiPolicy{
		PolicyType:   "Base Policy",
		VersionEx:    "10.0.0.0",
		PolicyID:     id,
		BasePolicyID: id,
		PlatformID:   PlatformWindows,
		Rules:        []Rule{{OptionUMCI}, {OptionAuditMode}, {OptionUnsigned}},
		FileRules:    []Allow{{ID: "ID_ALLOW_KERNEL", FriendlyName: "agentrun: kernel drivers are not this policy's concern", FileName: "*"}},
		Settings: []Setting{
			{Provider: "PolicyInfo", Key: "Information", ValueName: "Name", Value: "agentrun " + pol.Name},
			{Provider: "PolicyInfo", Key: "Information", ValueName: "Id", Value: "agentrun-" + pol.Name},
		},
	}
	user := SigningScenario{Value: ScenarioUser, ID: "ID_SIGNINGSCENARIO_WINDOWS", FriendlyName: "agentrun " + pol.Name + ": user mode"}
	var userWritable int
	for i, a := range as {
		rid := fmt.Sprintf("ID_ALLOW_A_%d", i+1)
		doc.FileRules = append(doc.FileRules, Allow{ID: rid, FriendlyName: description(a), FilePath: a.path})
		user.ProductSigners.FileRuleRefs = append(user.ProductSigners.FileRuleRefs, FileRuleRef{RuleID: rid})
		if !adminWritable(a.path) {
			userWritable++
		}
	}
	doc.SigningScenarios = []SigningScenario{
		{Value: ScenarioKernel, ID: "ID_SIGNINGSCENARIO_DRIVERS", FriendlyName: "agentrun " + pol.Name + ": kernel mode",
			ProductSigners: ProductSigners{FileRuleRefs: []FileRuleRef{{RuleID: "ID_ALLOW_KERNEL"}}}},
		user,
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the App Control policy: %w", err)
	}
	if userWritable > 0 {
		notes = append(notes, fmt.Sprintf("%d FilePath rules name folders standard users can write: App Control ignores them at run time unless the administrator adds the option \"Disabled:Runtime FilePath Rule Protection\"", userWritable))
	}
	notes = append(notes, "audit mode: App Control logs what it would block (Event Viewer, Applications and Services Logs/Microsoft/Windows/CodeIntegrity/Operational, event 3076); it applies to the whole machine, not to the agent's process tree; convert it with ConvertFrom-CIPolicy before deploying")
	return &Result{XML: append(append([]byte(xml.Header), out...), '\n'), Notes: notes}, nil
}

// adminWritable reports whether a path is in a folder only administrators write by default.
func adminWritable(p string) bool {
	l := strings.ToLower(p)
	return strings.HasPrefix(l, "%windir%") || strings.HasPrefix(l, "%system32%") || strings.HasPrefix(l, strings.ToLower(programFiles))
}
