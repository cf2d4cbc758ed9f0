//go:build windows

package acl

import (
	"testing"

	"github.com/agentrun/agentrun/platform/windows/appcontainer"
)

// containerSID is the SID of the AppContainer named name (no profile needs to exist).
func containerSID(t *testing.T, name string) string {
	t.Helper()
	sid, err := appcontainer.DeriveSID(name)
	if err != nil {
		t.Fatal(err)
	}
	return sid.String()
}
