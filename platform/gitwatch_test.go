package platform

import "testing"

func TestGitWatchNote(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/ws/.git", true},
		{"/ws/sub/.git/config", true},
		{"/ws/sub/.git/hooks/pre-commit", true},
		{"/ws/bare.git/HEAD", true},
		{"/ws/bare.git/config", true},
		{"/ws/bare.git/hooks/post-receive", true},
		{"/ws/wt/commondir", true},
		{"/ws/wt/gitdir", true},
		{"/ws/wt/config.worktree", true},
		{"/ws/.git/index", false},
		{"/ws/.git/index.lock", false},
		{"/ws/.git/HEAD", false},
		{"/ws/.git/objects/ab/cdef", false},
		{"/ws/.git/refs/heads/main", false},
		{"/ws/.git/logs/HEAD", false},
		{"/ws/.git/modules/sub/config", true},
		{"/ws/.git/worktrees/wt/gitdir", true},
		{"/ws/sub/.git", true},
		{"/ws/src/main.go", false},
		{"/ws/node_modules/x/index.js", false},
		{"/ws/.gitignore", false},
		{"/ws/configs/app.yaml", false},
	} {
		w := &GitWatch{}
		w.Note(tc.path)
		if got := w.Touched.Load(); got != tc.want {
			t.Errorf("Note(%q): touched %v, want %v", tc.path, got, tc.want)
		}
	}
	var none *GitWatch
	none.Note("/ws/.git/config") // a nil watch notes nothing, and does not panic
}
