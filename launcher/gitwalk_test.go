package launcher

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentrun/agentrun/platform/safefs"
)

// makeTree makes dirs (paths ending in /), files and symbolic links ("link -> target")
// beneath a new directory, and returns it held open.
func makeTree(t *testing.T, entries ...string) *safefs.Root {
	t.Helper()
	base := t.TempDir()
	makeEntries(t, base, entries...)
	r, err := safefs.OpenRoot(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// makeEntries makes entries beneath base, as makeTree says.
func makeEntries(t *testing.T, base string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		name, target, link := strings.Cut(e, " -> ")
		p := filepath.Join(base, name)
		dir := p
		if link || !strings.HasSuffix(e, "/") {
			dir = filepath.Dir(p)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case link:
			if err := os.Symlink(target, p); err != nil {
				t.Skipf("cannot make symbolic links here: %v", err)
			}
		case !strings.HasSuffix(e, "/"):
			if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// gitDirEntries is the layout git init makes at dir (what the walk's git-directory test
// looks for).
func gitDirEntries(dir string) []string {
	return []string{dir + "/HEAD", dir + "/config", dir + "/objects/pack/", dir + "/refs/heads/", dir + "/hooks/"}
}

func TestWalkGit(t *testing.T) {
	var entries []string
	entries = append(entries, gitDirEntries(".git")...)
	entries = append(entries, gitDirEntries("a/b/c/.git")...)
	entries = append(entries, gitDirEntries("bare.git")...)
	entries = append(entries,
		"worktree/.git", // a "gitdir:" file
		"linked/.git -> ../elsewhere",
		"elsewhere/",
		// A linked worktree's git directory: HEAD and commondir, no objects.
		"wt/HEAD", "wt/commondir",
		// Inside a .git directory, the data directories are not walked: a repository there
		// is not found.
		".git/objects/x/.git/HEAD", ".git/objects/x/.git/objects/",
		".git/refs/y/.git -> /",
		// Anywhere else they are: a HEAD and an objects would hide the logs of a project.
		"proj/HEAD", "proj/objects/", "proj/logs/r/.git/HEAD", "proj/logs/r/.git/objects/",
		// Nor are directories behind links: this one leads to a repository.
		"dirlink -> a",
		// Git asks access(2), not for a type: HEAD as a link, objects as a link or a file
		// are git directories to it, so to the walk too; HEAD alone or objects alone are not.
		"n1/HEAD -> refs/heads/main", "n1/objects -> /", "n2/HEAD", "n2/objects",
		"n3/HEAD", "n4/objects/", "n5/commondir",
		"deep/1/2/3/4/5/6/7/8/9/.git/HEAD", "deep/1/2/3/4/5/6/7/8/9/.git/objects/",
	)
	r := makeTree(t, entries...)
	want := []gitFound{
		{".git", foundGitDir},
		{"bare.git", foundGitDir},
		{"n1", foundGitDir},
		{"n2", foundGitDir},
		{"proj", foundGitDir},
		{"wt", foundGitDir},
		{"linked/.git", foundGitLink},
		{"worktree/.git", foundGitFile},
		{"a/b/c/.git", foundGitDir},
		{"proj/logs/r/.git", foundGitDir},
		{"deep/1/2/3/4/5/6/7/8/9/.git", foundGitDir},
	}
	found, stopped, unread, _ := walkGit(r, []string{"."}, 1000, 4)
	if stopped != "" || len(unread) != 0 {
		t.Errorf("stopped at %q with a bound of 1000, could not list %v", stopped, unread)
	}
	if !reflect.DeepEqual(found, want) {
		t.Errorf("walkGit found\n%v\nwant\n%v", found, want)
	}
	// One reader finds the same, in the same order.
	if one, _, _, _ := walkGit(r, []string{"."}, 1000, 1); !reflect.DeepEqual(one, want) {
		t.Errorf("walkGit with one reader found\n%v\nwant\n%v", one, want)
	}
}

// TestWalkGitBound: the walk reads at most the bound's directories, the shallowest, and says
// where it stopped.
func TestWalkGitBound(t *testing.T) {
	var entries []string
	for _, top := range []string{"p", "q", "r"} {
		entries = append(entries, gitDirEntries(top+"/.git")...)
		entries = append(entries, top+"/s/", top+"/t/")
	}
	// 16 directories: ".", then p, q and r, then each one's .git, s and t, then each .git's
	// hooks (objects and refs are not walked).
	r := makeTree(t, entries...)
	want := []gitFound{{"p/.git", foundGitDir}, {"q/.git", foundGitDir}, {"r/.git", foundGitDir}}
	for _, workers := range []int{1, 4} {
		// ".", p, q and r: the .git directories are listed, not read, so not known.
		found, stopped, _, _ := walkGit(r, []string{"."}, 4, workers)
		if len(found) != 0 || strings.Count(stopped, "/") != 1 {
			t.Errorf("%d readers, bound 4: found %v, stopped at %q; want nothing found, a stop at a second-level directory", workers, found, stopped)
		}
		if found, stopped, _, _ = walkGit(r, []string{"."}, 16, workers); !reflect.DeepEqual(found, want) || stopped != "" {
			t.Errorf("%d readers, bound 16: found %v, stopped at %q; want %v and no stop", workers, found, stopped, want)
		}
		if found, stopped, _, _ = walkGit(r, []string{"."}, 15, workers); stopped == "" {
			t.Errorf("%d readers, bound 15: found %v, no stop; want one", workers, found)
		}
	}
	// One reader walks breadth first: the 13 shallowest are ".", the three tops and their
	// nine entries, which holds every git directory; a hooks directory is left.
	found, stopped, _, _ := walkGit(r, []string{"."}, 13, 1)
	if !reflect.DeepEqual(found, want) || !strings.HasSuffix(stopped, "/.git/hooks") {
		t.Errorf("one reader, bound 13: found %v, stopped at %q; want %v, a stop at a hooks directory", found, stopped, want)
	}
}

// TestPointedTo: the git directories that pointers lead to are checked where the walk did not
// reach them (the data directories of a .git directory), old pointers too; those outside the
// workspace, through a commondir as well, and ones already found are not added.
func TestPointedTo(t *testing.T) {
	r := makeTree(t, append(gitDirEntries(".git"), ".git/objects/gd/", ".git/refs/cd/", "w/", "v/", "u/", "wt/")...)
	for name, content := range map[string]string{
		"w/.git":        "gitdir: ../.git/objects/gd\n",
		"v/.git":        "gitdir: /elsewhere\n",
		"u/.git":        "gitdir: ../.git\n",
		".git/HEAD":     "ref: refs/heads/main\n",
		"wt/HEAD":       "ref: refs/heads/main\n",
		"wt/commondir":  "../.git/refs/cd\n",
		"w/.git.unused": "gitdir: ../v\n",
	} {
		if err := os.WriteFile(filepath.Join(r.Path(), name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, _, _, _ := walkGit(r, []string{"."}, 1000, 2)
	a := &afterRun{ws: r}
	got := a.pointedTo(found)
	want := []gitFound{
		{".git", foundGitDir},
		{"wt", foundGitDir},
		{"u/.git", foundGitFile},
		{"v/.git", foundGitFile},
		{"w/.git", foundGitFile},
		{".git/refs/cd", foundGitDir},
		{".git/objects/gd", foundGitDir},
	}
	sortFound(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pointedTo found\n%v\nwant\n%v", got, want)
	}
}
