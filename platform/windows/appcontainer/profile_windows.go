package appcontainer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// Profile is an AppContainer profile: its name and the package SID derived from it, which
// the container's token carries and which a DACL must grant for the container to reach a
// file.
type Profile struct {
	Name string
	SID  *windows.SID
}

// OpenProfile creates the AppContainer profile name (CreateAppContainerProfile), or takes
// the one that exists already.
func OpenProfile(name, displayName, description string) (*Profile, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	sid, err := createAppContainerProfile(name, displayName, description)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		sid, err = DeriveSID(name)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the AppContainer profile %s: %w", name, err)
	}
	return &Profile{Name: name, SID: sid}, nil
}

// DeriveSID is the package SID of the AppContainer name, whether or not its profile exists
// (DeriveAppContainerSidFromAppContainerName).
func DeriveSID(name string) (*windows.SID, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	sid, err := deriveAppContainerSid(name)
	if err != nil {
		return nil, fmt.Errorf("deriving the SID of the AppContainer %s: %w", name, err)
	}
	return sid, nil
}

// DeleteProfile deletes the AppContainer profile name and its folder
// (DeleteAppContainerProfile); a profile that does not exist is no error. Grants naming its
// SID in other files' DACLs stay: the caller removes those.
func DeleteProfile(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := deleteAppContainerProfile(name); err != nil && !errors.Is(err, windows.ERROR_NOT_FOUND) && !errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return fmt.Errorf("deleting the AppContainer profile %s: %w", name, err)
	}
	return nil
}

// Folder is the container's own writable folder, %LOCALAPPDATA%\Packages\NAME\AC
// (GetAppContainerFolderPath): its TEMP belongs there.
func (p *Profile) Folder() (string, error) {
	dir, err := appContainerFolderPath(p.SID.String())
	if err != nil {
		return "", fmt.Errorf("finding the folder of the AppContainer %s: %w", p.Name, err)
	}
	return dir, nil
}

// capabilitySIDs are the SIDs of the capability names, enabled.
func capabilitySIDs(names []string) ([]windows.SIDAndAttributes, error) {
	var out []windows.SIDAndAttributes
	for _, name := range names {
		var sid *windows.SID
		var err error
		if s, ok := WellKnownCapabilitySID(name); ok {
			sid, err = windows.StringToSid(s)
		} else {
			sid, err = deriveCapabilitySID(name)
		}
		if err != nil {
			return nil, fmt.Errorf("finding the SID of the capability %q (a name such as internetClient or privateNetworkClientServer): %w", name, err)
		}
		out = append(out, windows.SIDAndAttributes{Sid: sid, Attributes: windows.SE_GROUP_ENABLED})
	}
	return out, nil
}

// Available says whether this Windows has AppContainers (userenv.dll's
// CreateAppContainerProfile: Windows 8 / Server 2012 and later), or why not.
func Available() error { return procCreateAppContainerProfile.Find() }
