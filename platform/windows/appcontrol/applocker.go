package appcontrol

import (
	"encoding/xml"
	"fmt"

	"github.com/agentrun/agentrun/profiles"
)

// AppLockerPolicy is an AppLocker policy as Set-AppLockerPolicy -XmlPolicy and Group Policy
// import it (Microsoft Learn, AppLocker: "Understanding AppLocker rule collections", "Export
// an AppLocker policy to an XML file"). Only the elements agentrun writes are here.
type AppLockerPolicy struct {
	XMLName         xml.Name         `xml:"AppLockerPolicy"`
	Version         string           `xml:"Version,attr"`
	RuleCollections []RuleCollection `xml:"RuleCollection"`
}

// RuleCollection is the rules of one file type: Exe, Script, Msi, Dll or Appx.
type RuleCollection struct {
	Type            string         `xml:"Type,attr"`
	EnforcementMode string         `xml:"EnforcementMode,attr"` // NotConfigured, AuditOnly, Enabled
	FilePathRules   []FilePathRule `xml:"FilePathRule"`
}

// FilePathRule allows or denies the files a path condition matches to a user or group.
type FilePathRule struct {
	ID             string             `xml:"Id,attr"`
	Name           string             `xml:"Name,attr"`
	Description    string             `xml:"Description,attr"`
	UserOrGroupSid string             `xml:"UserOrGroupSid,attr"`
	Action         string             `xml:"Action,attr"` // Allow, Deny
	Conditions     FilePathConditions `xml:"Conditions"`
}

// FilePathConditions holds a path rule's condition.
type FilePathConditions struct {
	FilePathCondition FilePathCondition `xml:"FilePathCondition"`
}

// FilePathCondition is a path, a trailing * matching what is under it.
type FilePathCondition struct {
	Path string `xml:"Path,attr"`
}

// The AppLocker values agentrun writes.
const (
	AuditOnly = "AuditOnly"
	// administrators is BUILTIN\Administrators, whom AppLocker's default rules let run all
	// files: the policy must not lock out the people who deploy it once it is enforced.
	administrators = "S-1-5-32-544"
)

// appLockerCollections are the rule collections written: programs, and scripts (.ps1, .bat,
// .cmd, .vbs, .js), which is what npm's shims for node programs are. DLL rules are left
// out: they cost every load a check and must be turned on separately (AppLocker, "DLL rules").
var appLockerCollections = []string{"Exe", "Script"}

// CompileAppLocker writes pol's allowed programs as an audit-only AppLocker policy: a path
// rule per allowed location for o.SID (Everyone by default), and the default rule that lets
// administrators run everything; everything else is what AppLocker would block, logged.
func CompileAppLocker(pol *profiles.Policy, o Options) (*Result, error) {
	as, notes, err := allows(pol, o)
	if err != nil {
		return nil, err
	}
	sid := o.SID
	if sid == "" {
		sid = everyone
	}
	doc := AppLockerPolicy{Version: "1"}
	for _, typ := range appLockerCollections {
		rc := RuleCollection{Type: typ, EnforcementMode: AuditOnly}
		for _, a := range as {
			rc.FilePathRules = append(rc.FilePathRules, FilePathRule{
				ID:             guid("applocker", pol.Name, typ, sid, a.path),
				Name:           fmt.Sprintf("agentrun %s: %s", pol.Name, a.path),
				Description:    description(a),
				UserOrGroupSid: sid,
				Action:         "Allow",
				Conditions:     FilePathConditions{FilePathCondition{Path: a.path}},
			})
		}
		rc.FilePathRules = append(rc.FilePathRules, FilePathRule{
			ID:             guid("applocker", pol.Name, typ, administrators, "*"),
			Name:           "agentrun: administrators run all files (AppLocker's default rule)",
			Description:    "Lets BUILTIN\\Administrators run every file, so an enforced policy does not lock out who deploys it.",
			UserOrGroupSid: administrators,
			Action:         "Allow",
			Conditions:     FilePathConditions{FilePathCondition{Path: "*"}},
		})
		doc.RuleCollections = append(doc.RuleCollections, rc)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the AppLocker policy: %w", err)
	}
	notes = append(notes, "audit only: AppLocker logs what it would block (Event Viewer, Applications and Services Logs/Microsoft/Windows/AppLocker, events 8003 and 8006) once the Application Identity service runs; it applies to "+sidName(sid)+" on the machine, not to the agent's process tree")
	return &Result{XML: append(append([]byte(xml.Header), out...), '\n'), Notes: notes}, nil
}

func sidName(sid string) string {
	if sid == everyone {
		return "every user (Everyone, S-1-1-0)"
	}
	return sid
}
