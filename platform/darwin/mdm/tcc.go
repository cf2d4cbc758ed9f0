package mdm

import (
	"crypto/sha1"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// Profile is a configuration profile (.mobileconfig) with one payload, as Apple's device
// management reference documents its top level (TopLevel.yaml) and common payload keys.
type Profile struct {
	PayloadContent     []PPPCPayload `plist:"PayloadContent"`
	PayloadDescription string        `plist:"PayloadDescription"`
	PayloadDisplayName string        `plist:"PayloadDisplayName"`
	PayloadIdentifier  string        `plist:"PayloadIdentifier"`
	PayloadScope       string        `plist:"PayloadScope"`
	PayloadType        string        `plist:"PayloadType"`
	PayloadUUID        string        `plist:"PayloadUUID"`
	PayloadVersion     int           `plist:"PayloadVersion"`
}

// PPPCPayload is a Privacy Preferences Policy Control payload
// (com.apple.TCC.configuration-profile-policy): identities per TCC service.
type PPPCPayload struct {
	PayloadDescription string                `plist:"PayloadDescription"`
	PayloadDisplayName string                `plist:"PayloadDisplayName"`
	PayloadIdentifier  string                `plist:"PayloadIdentifier"`
	PayloadType        string                `plist:"PayloadType"`
	PayloadUUID        string                `plist:"PayloadUUID"`
	PayloadVersion     int                   `plist:"PayloadVersion"`
	Services           map[string][]Identity `plist:"Services"`
}

// Identity is one program's entry for one service.
type Identity struct {
	Identifier      string `plist:"Identifier"`
	IdentifierType  string `plist:"IdentifierType"` // bundleID or path
	CodeRequirement string `plist:"CodeRequirement"`
	StaticCode      bool   `plist:"StaticCode"`
	Authorization   string `plist:"Authorization"` // Deny, Allow, AllowStandardUserToSetSystemService
	Comment         string `plist:"Comment,omitempty"`
}

// PPPCPayloadType is the payload type of a PPPC payload.
const PPPCPayloadType = "com.apple.TCC.configuration-profile-policy"

// App is a program the agent runs in or as: a terminal application by bundle ID, or a
// runtime by its path, with the code requirement TCC matches it by.
type App struct {
	Identifier      string
	IdentifierType  string // "bundleID" or "path"
	CodeRequirement string
}

// DefaultTerminals are the terminals whose grants a command-line agent inherits when
// --terminal names none: Terminal.app and iTerm2. A Deny matches every program that meets
// the requirement, so the requirements name the identifier and Apple's anchor only.
var DefaultTerminals = []App{
	{Identifier: "com.apple.Terminal", IdentifierType: "bundleID", CodeRequirement: `identifier "com.apple.Terminal" and anchor apple`},
	{Identifier: "com.googlecode.iterm2", IdentifierType: "bundleID", CodeRequirement: `identifier "com.googlecode.iterm2" and anchor apple generic`},
}

// Terminal is the App of a terminal by bundle ID, with a requirement on its identifier and
// a developer ID or Apple signature (check with codesign --display -r - on the Mac).
func Terminal(bundleID string) App {
	return App{Identifier: bundleID, IdentifierType: "bundleID", CodeRequirement: fmt.Sprintf("identifier %q and anchor apple generic", bundleID)}
}

// Runtime is the App of a program by path (node, python3, the agent's own binary), with
// requirement req, or `identifier "NAME"` (NAME its file name, which codesign gives a binary
// by default, ad-hoc signed ones included) when req is empty.
func Runtime(p, req string) App {
	if req == "" {
		req = fmt.Sprintf("identifier %q", path.Base(p))
	}
	return App{Identifier: p, IdentifierType: "path", CodeRequirement: req}
}

// TCCOptions are what the PPPC profile needs beyond the policy.
type TCCOptions struct {
	Home string // as for SantaOptions; empty means AnyHome
	Apps []App  // the terminals and runtimes to deny; none means DefaultTerminals
}

// service is one TCC service and the paths whose use by the policy means it is needed.
type service struct {
	name  string
	what  string
	needs func(home string) []string // nil: nothing a profile can say needs it
}

// services are the TCC services the profile denies unless the policy reads or writes where
// they guard. Full Disk Access and the administration files are always denied; so are the
// personal data and devices no profile can name (contacts, calendars, camera, …). AppleEvents
// (which needs a receiver) and FileProviderPresence are not written.
var services = []service{
	{name: "SystemPolicyAllFiles", what: "Full Disk Access"},
	{name: "SystemPolicySysAdminFiles", what: "system administration files"},
	{name: "SystemPolicyDocumentsFolder", what: "~/Documents", needs: homeDir("Documents")},
	{name: "SystemPolicyDesktopFolder", what: "~/Desktop", needs: homeDir("Desktop")},
	{name: "SystemPolicyDownloadsFolder", what: "~/Downloads", needs: homeDir("Downloads")},
	{name: "SystemPolicyNetworkVolumes", what: "network volumes", needs: fixed("/Volumes")},
	{name: "SystemPolicyRemovableVolumes", what: "removable volumes", needs: fixed("/Volumes")},
	{name: "SystemPolicyAppBundles", what: "other apps' bundles", needs: fixed("/Applications")},
	{name: "Photos", what: "the Photos library", needs: homeDir("Pictures")},
	{name: "MediaLibrary", what: "the media library", needs: homeDir("Music")},
	{name: "AddressBook", what: "contacts"},
	{name: "Calendar", what: "calendars"},
	{name: "Reminders", what: "reminders"},
	{name: "Camera", what: "the camera"},
	{name: "Microphone", what: "the microphone"},
	{name: "SpeechRecognition", what: "speech recognition"},
	{name: "ScreenCapture", what: "screen contents"},
	{name: "ListenEvent", what: "keyboard and mouse input of other programs"},
	{name: "PostEvent", what: "synthetic input events"},
	{name: "Accessibility", what: "control of other programs through Accessibility"},
}

func homeDir(name string) func(string) []string {
	return func(home string) []string { return []string{home + "/" + name} }
}

func fixed(p string) func(string) []string { return func(string) []string { return []string{p} } }

// TCCResult is a compiled PPPC profile and what it leaves to the user.
type TCCResult struct {
	Mobileconfig []byte
	Notes        []string
}

// CompileTCC writes a PPPC configuration profile that denies each app in o every TCC service
// that pol does not need: a service is needed where a read, write or protect rule of pol
// reaches the place it guards (~/Documents for SystemPolicyDocumentsFolder, …). Its
// identifiers and UUIDs derive from the profile's name and the apps, so the same input gives
// the same file and a new version replaces the old on the Mac.
func CompileTCC(pol *profiles.Policy, o TCCOptions) (*TCCResult, error) {
	home := o.Home
	if home == "" {
		home = AnyHome
	}
	apps := o.Apps
	if len(apps) == 0 {
		apps = DefaultTerminals
	}
	for _, a := range apps {
		if err := checkApp(a); err != nil {
			return nil, err
		}
	}
	res := &TCCResult{}
	svc := map[string][]Identity{}
	for _, s := range services {
		if s.needs != nil {
			if r := reaching(pol, s.needs(home)); r != nil {
				res.Notes = append(res.Notes, fmt.Sprintf("%s (%s) not denied: %s (%s) needs it", s.name, s.what, r.Pattern, r.Origin))
				continue
			}
		}
		for _, a := range apps {
			svc[s.name] = append(svc[s.name], Identity{
				Identifier: a.Identifier, IdentifierType: a.IdentifierType, CodeRequirement: a.CodeRequirement,
				Authorization: "Deny",
				Comment:       fmt.Sprintf("agentrun profile %s does not need %s", pol.Name, s.what),
			})
		}
	}
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.IdentifierType + ":" + a.Identifier
	}
	sort.Strings(ids)
	seed := "agentrun tcc " + pol.Name + " " + strings.Join(ids, " ")
	ident := "dev.agentrun.tcc." + identPart(pol.Name)
	p := Profile{
		PayloadContent: []PPPCPayload{{
			PayloadDescription: "Denies " + strings.Join(ids, ", ") + " the privacy services agentrun profile " + pol.Name + " does not need",
			PayloadDisplayName: "agentrun " + pol.Name + ": privacy preferences",
			PayloadIdentifier:  ident + ".pppc",
			PayloadType:        PPPCPayloadType,
			PayloadUUID:        nameUUID(seed + " payload"),
			PayloadVersion:     1,
			Services:           svc,
		}},
		PayloadDescription: "Generated by agentrun compile --target tcc from profile " + pol.Name,
		PayloadDisplayName: "agentrun " + pol.Name,
		PayloadIdentifier:  ident,
		PayloadScope:       "System",
		PayloadType:        "Configuration",
		PayloadUUID:        nameUUID(seed),
		PayloadVersion:     1,
	}
	out, err := encodePlist(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration profile: %w", err)
	}
	res.Mobileconfig = out
	return res, nil
}

// checkApp refuses an app TCC would not match.
func checkApp(a App) error {
	switch a.IdentifierType {
	case "bundleID":
		if a.Identifier == "" || strings.ContainsAny(a.Identifier, "/ \"") {
			return fmt.Errorf("terminal %q: not a bundle ID (such as com.apple.Terminal)", a.Identifier)
		}
	case "path":
		if !strings.HasPrefix(a.Identifier, "/") {
			return fmt.Errorf("runtime %q: not an absolute path (such as /opt/homebrew/bin/node)", a.Identifier)
		}
	default:
		return fmt.Errorf("app %q: identifier type %q is neither bundleID nor path", a.Identifier, a.IdentifierType)
	}
	if strings.TrimSpace(a.CodeRequirement) == "" {
		return fmt.Errorf("%s: no code requirement (codesign --display -r - on the Mac prints it)", a.Identifier)
	}
	return nil
}

// reaching is the first read, write or protect rule of pol that reaches one of places (the
// place or under it, or a rule above it), or nil. A rule under the placeholder workspace
// reaches nothing.
func reaching(pol *profiles.Policy, places []string) *profiles.PathRule {
	for _, list := range [][]profiles.PathRule{pol.Filesystem.Read, pol.Filesystem.Write, pol.Filesystem.Protect} {
		for i, r := range list {
			if underWorkspace(r.Path) {
				continue
			}
			for _, pl := range places {
				if overlap(r.Path, pl) {
					return &list[i]
				}
			}
		}
	}
	return nil
}

// overlap reports whether one of two paths is the other or under it, element by element,
// where an element of either may be a glob (a home of /Users/* reaches /Users/ada/Documents).
func overlap(a, b string) bool {
	ea, eb := strings.Split(a, "/"), strings.Split(b, "/")
	n := min(len(ea), len(eb))
	for i := 0; i < n; i++ {
		if ea[i] == eb[i] {
			continue
		}
		if ok, _ := path.Match(ea[i], eb[i]); ok {
			continue
		}
		if ok, _ := path.Match(eb[i], ea[i]); !ok {
			return false
		}
	}
	return true
}

// identPart is name as one reverse-DNS component.
func identPart(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// uuidNamespace is agentrun's namespace for name-based UUIDs (itself a version 5 UUID of
// "agentrun.dev" in the DNS namespace would do as well; any fixed value keeps them stable).
var uuidNamespace = [16]byte{0x6a, 0x2f, 0x8e, 0x51, 0x0c, 0x3d, 0x4b, 0x7e, 0x9a, 0x14, 0x55, 0xd2, 0xe8, 0x61, 0x0b, 0x93}

// nameUUID is the version 5 (SHA-1, name-based) UUID of name (RFC 9562 §5.5), upper case
// as Apple's tools write them.
func nameUUID(name string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(name))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}
