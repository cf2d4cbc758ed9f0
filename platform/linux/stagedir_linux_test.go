package linux

import (
	"testing"

	"github.com/agentrun/agentrun/platform/linux/fileaudit"
)

// TestStageDirAgrees checks that the file judge knows the stage by the directory the sandbox
// mounts it at: otherwise the stage's own accesses would be judged as the agent's.
func TestStageDirAgrees(t *testing.T) {
	if stageDir != fileaudit.StageDir {
		t.Fatalf("the stage is mounted at %s, but fileaudit.StageDir is %s", stageDir, fileaudit.StageDir)
	}
}
