package launcher

import (
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

// TestStartupFilesIn checks which workspaces count as holding the user's start-up files: the
// home directory, a directory around it, and one where the profile protects a home path; not
// a project, whatever it protects through $WORKSPACE.
func TestStartupFilesIn(t *testing.T) {
	pol := &profiles.Policy{Filesystem: profiles.FilesystemPolicy{Protect: []profiles.PathRule{
		{Path: "/home/u/.bashrc", Pattern: "~/.bashrc"},
		{Path: "/home/u/.config/systemd", Pattern: "~/.config/systemd"},
		{Path: "/home/u/proj/.git/config", Pattern: "$WORKSPACE/.git/config"},
	}}}
	tests := []struct {
		name, ws string
		held     bool
	}{
		{"home", "/home/u", true},
		{"around home", "/home", true},
		{"config directory", "/home/u/.config", true},
		{"inside a protected path (protect wins: read-only)", "/home/u/.config/systemd/user", false},
		{"project", "/home/u/proj", false},
		{"elsewhere", "/srv/work", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := startupFilesIn(pol, "/home/u", tc.ws); (got != "") != tc.held {
				t.Errorf("startupFilesIn(%s) = %q, want held %v", tc.ws, got, tc.held)
			}
		})
	}
}
