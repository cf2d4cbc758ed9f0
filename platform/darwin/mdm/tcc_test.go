package mdm

import (
	"regexp"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/agentrun/agentrun/profiles"
	"github.com/agentrun/agentrun/profiles/profilestest"
)

// identitySchema is a PPPC identity dictionary (Apple's device-management
// com.apple.TCC.configuration-profile-policy.yaml); Authorization replaces Allowed.
var identitySchema = schema{
	"Identifier":                {typ: "string", required: true},
	"IdentifierType":            {typ: "string", required: true, values: []string{"bundleID", "path"}},
	"CodeRequirement":           {typ: "string", required: true},
	"StaticCode":                {typ: "bool"},
	"Allowed":                   {typ: "bool"},
	"Authorization":             {typ: "string", values: []string{"Allow", "Deny", "AllowStandardUserToSetSystemService"}},
	"Comment":                   {typ: "string"},
	"AEReceiverIdentifier":      {typ: "string"},
	"AEReceiverIdentifierType":  {typ: "string", values: []string{"bundleID", "path"}},
	"AEReceiverCodeRequirement": {typ: "string"},
}

// documentedServices are the keys of Services in Apple's reference.
var documentedServices = []string{"AddressBook", "Calendar", "Reminders", "Photos", "Camera", "Microphone",
	"Accessibility", "PostEvent", "SystemPolicyAllFiles", "SystemPolicySysAdminFiles", "AppleEvents",
	"MediaLibrary", "FileProviderPresence", "ListenEvent", "ScreenCapture", "SpeechRecognition",
	"SystemPolicyDesktopFolder", "SystemPolicyDocumentsFolder", "SystemPolicyDownloadsFolder",
	"SystemPolicyNetworkVolumes", "SystemPolicyRemovableVolumes", "SystemPolicyAppBundles"}

func servicesSchema() schema {
	s := schema{}
	for _, n := range documentedServices {
		s[n] = key{typ: "array", elem: "dict", fields: identitySchema}
	}
	return s
}

// mobileconfigSchema is the top level (TopLevel.yaml) with one PPPC payload (the common
// payload keys and Services).
var mobileconfigSchema = schema{
	"PayloadIdentifier":   {typ: "string", required: true},
	"PayloadUUID":         {typ: "string", required: true},
	"PayloadType":         {typ: "string", required: true, values: []string{"Configuration"}},
	"PayloadVersion":      {typ: "int", required: true},
	"PayloadContent":      {typ: "array", required: true, elem: "dict", fields: pppcSchema},
	"PayloadDescription":  {typ: "string"},
	"PayloadDisplayName":  {typ: "string"},
	"PayloadOrganization": {typ: "string"},
	"PayloadScope":        {typ: "string", values: []string{"System", "User"}},
}

var pppcSchema = schema{
	"PayloadIdentifier":   {typ: "string", required: true},
	"PayloadUUID":         {typ: "string", required: true},
	"PayloadType":         {typ: "string", required: true, values: []string{PPPCPayloadType}},
	"PayloadVersion":      {typ: "int", required: true},
	"PayloadDescription":  {typ: "string"},
	"PayloadDisplayName":  {typ: "string"},
	"PayloadOrganization": {typ: "string"},
	"Services":            {typ: "dict", required: true, fields: servicesSchema()},
}

var uuidRE = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

// checkMobileconfig parses a profile back strictly and checks what the schema cannot: one
// of Allowed and Authorization per identity, UUIDs as UUIDs, identifiers unique.
func checkMobileconfig(t *testing.T, data []byte) Profile {
	t.Helper()
	var raw map[string]any
	if _, err := plist.Unmarshal(data, &raw); err != nil {
		t.Fatalf("not a plist: %v", err)
	}
	checkDict(t, "", raw, mobileconfigSchema)
	var p Profile
	if _, err := plist.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.PayloadContent) != 1 {
		t.Fatalf("%d payloads, want 1", len(p.PayloadContent))
	}
	pl := p.PayloadContent[0]
	for _, u := range []string{p.PayloadUUID, pl.PayloadUUID} {
		if !uuidRE.MatchString(u) {
			t.Errorf("UUID %q is not an upper-case version 5 UUID", u)
		}
	}
	if p.PayloadUUID == pl.PayloadUUID || p.PayloadIdentifier == pl.PayloadIdentifier {
		t.Errorf("the payload shares the profile's UUID or identifier")
	}
	for svc, ids := range raw["PayloadContent"].([]any)[0].(map[string]any)["Services"].(map[string]any) {
		for i, id := range ids.([]any) {
			d := id.(map[string]any)
			_, allowed := d["Allowed"]
			_, auth := d["Authorization"]
			if allowed == auth {
				t.Errorf("%s[%d]: has both or neither of Allowed and Authorization", svc, i)
			}
		}
	}
	return p
}

func TestTCCGolden(t *testing.T) {
	for name, pol := range profilestest.Builtins(t, Env("", "")) {
		t.Run(name, func(t *testing.T) {
			res, err := CompileTCC(pol, TCCOptions{})
			if err != nil {
				t.Fatal(err)
			}
			profilestest.Golden(t, pkg, "tcc-"+name+".mobileconfig", res.Mobileconfig, *update)
			p := checkMobileconfig(t, res.Mobileconfig)
			fda := p.PayloadContent[0].Services["SystemPolicyAllFiles"]
			if len(fda) != len(DefaultTerminals) || fda[0].Authorization != "Deny" {
				t.Errorf("Full Disk Access entries = %+v, want a Deny per default terminal", fda)
			}
		})
	}
}

// TestTCCKeepsWhatThePolicyNeeds: a workspace in ~/Documents keeps that folder's service,
// the home given as a glob or not, and every other file service stays denied.
func TestTCCKeepsWhatThePolicyNeeds(t *testing.T) {
	for _, home := range []string{"", "/Users/ada"} {
		pol := profilestest.Builtins(t, Env(home, "/Users/ada/Documents/proj"))["claude"]
		res, err := CompileTCC(pol, TCCOptions{Home: home, Apps: []App{Runtime("/opt/homebrew/bin/node", "")}})
		if err != nil {
			t.Fatal(err)
		}
		p := checkMobileconfig(t, res.Mobileconfig)
		svc := p.PayloadContent[0].Services
		if _, ok := svc["SystemPolicyDocumentsFolder"]; ok {
			t.Errorf("home %q: ~/Documents denied though the workspace is there", home)
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "SystemPolicyDocumentsFolder (~/Documents) not denied: $WORKSPACE") {
			t.Errorf("home %q: notes do not say why ~/Documents is kept: %q", home, res.Notes)
		}
		d := svc["SystemPolicyDesktopFolder"]
		if len(d) != 1 || d[0].Identifier != "/opt/homebrew/bin/node" || d[0].IdentifierType != "path" || d[0].CodeRequirement != `identifier "node"` {
			t.Errorf("home %q: desktop entries = %+v", home, d)
		}
	}
}

func TestTCCStableIdentity(t *testing.T) {
	pol := profilestest.Builtins(t, Env("", ""))["claude"]
	a, _ := CompileTCC(pol, TCCOptions{})
	b, _ := CompileTCC(pol, TCCOptions{Apps: []App{DefaultTerminals[1], DefaultTerminals[0]}})
	c, _ := CompileTCC(pol, TCCOptions{Apps: []App{Terminal("com.mitchellh.ghostty")}})
	pa, pb, pc := checkMobileconfig(t, a.Mobileconfig), checkMobileconfig(t, b.Mobileconfig), checkMobileconfig(t, c.Mobileconfig)
	if pa.PayloadUUID != pb.PayloadUUID {
		t.Errorf("the order of the apps changed the UUID")
	}
	if pa.PayloadUUID == pc.PayloadUUID {
		t.Errorf("other apps kept the UUID")
	}
}

func TestTCCBrokenInput(t *testing.T) {
	pol := &profiles.Policy{Name: "mine"}
	for _, tc := range []struct {
		app  App
		want string
	}{
		{Terminal("/Applications/iTerm.app"), "not a bundle ID"},
		{Runtime("node", ""), "not an absolute path"},
		{App{Identifier: "x", IdentifierType: "team"}, "neither bundleID nor path"},
		{App{Identifier: "com.x", IdentifierType: "bundleID"}, "no code requirement"},
	} {
		if _, err := CompileTCC(pol, TCCOptions{Apps: []App{tc.app}}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.app, err, tc.want)
		}
	}
}

func TestStrictCheckerFails(t *testing.T) {
	// The checker itself: an unknown key, a missing required key and a wrong type are caught.
	var errs []string
	rec := recorder{errs: &errs}
	checkDict(rec, "", map[string]any{"Version": uint64(1), "Bogus": true}, faaSchema)
	got := strings.Join(errs, "\n")
	for _, want := range []string{"Bogus: not a documented key", "Version: uint64, want a string"} {
		if !strings.Contains(got, want) {
			t.Errorf("checker missed %q:\n%s", want, got)
		}
	}
	errs = nil
	checkDict(rec, "", map[string]any{"PayloadType": "Configuration"}, mobileconfigSchema)
	if got := strings.Join(errs, "\n"); !strings.Contains(got, "required keys missing: PayloadContent, PayloadIdentifier, PayloadUUID, PayloadVersion") {
		t.Errorf("checker missed the required keys:\n%s", got)
	}
}
