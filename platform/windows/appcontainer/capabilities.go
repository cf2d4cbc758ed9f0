package appcontainer

// wellKnownCapabilities are the capability names Windows gives a fixed SID
// (WELL_KNOWN_SID_TYPE WinCapability…Sid, S-1-15-3-N). Any other name is turned into its SID
// by DeriveCapabilitySidsFromName on Windows.
var wellKnownCapabilities = map[string]string{
	"internetClient":             "S-1-15-3-1",
	"internetClientServer":       "S-1-15-3-2",
	"privateNetworkClientServer": "S-1-15-3-3",
	"picturesLibrary":            "S-1-15-3-4",
	"videosLibrary":              "S-1-15-3-5",
	"musicLibrary":               "S-1-15-3-6",
	"documentsLibrary":           "S-1-15-3-7",
	"enterpriseAuthentication":   "S-1-15-3-8",
	"sharedUserCertificates":     "S-1-15-3-9",
	"removableStorage":           "S-1-15-3-10",
	"appointments":               "S-1-15-3-11",
	"contacts":                   "S-1-15-3-12",
}

// WellKnownCapabilitySID is the fixed SID of a capability name, or "" and false when Windows
// derives it from the name instead.
func WellKnownCapabilitySID(name string) (string, bool) {
	sid, ok := wellKnownCapabilities[name]
	return sid, ok
}
