package fileaudit

import (
	"path/filepath"
	"sync"

	"github.com/agentrun/agentrun/profiles"
)

// settleMemo bounds the judge's memory of directories' answers (settles).
const settleMemo = 1 << 14

// settleAnswer is what one directory answers for settles: whether reading it is allowed
// with everything beneath it judged alike (subtree), or with what is directly in it (children).
type settleAnswer struct{ subtree, children bool }

// settler remembers, for the judge, how directories answer settles: the policy does not
// change during a run, and a search asks about the same few directories thousands of times.
type settler struct {
	mu   sync.Mutex
	memo map[string]settleAnswer
}

// settles says where audit mode's recorder of reads may stop reporting, for path, a file
// (or directory) whose read the judge found allowed or its own, or "": the shallowest
// directory on its way whose read is allowed and beneath which the policy names nothing apart
// (subtree true), else its own directory when that is allowed and names nothing directly in
// it apart. Without trace a read the policy allows records nothing, wherever it is (the
// sandbox's own file systems, enforce mode's view or not), so the reads beneath such a
// directory would all record nothing.
func (j *fileJudge) settles(path string) (dir string, subtree bool) {
	if j.trace {
		return "", false
	}
	parent := filepath.Dir(path)
	for i := 1; i < len(parent); i++ {
		if parent[i] != '/' {
			continue
		}
		if j.settleOf(parent[:i]).subtree {
			return parent[:i], true
		}
	}
	if parent == "/" {
		return "", false
	}
	a := j.settleOf(parent)
	switch {
	case a.subtree:
		return parent, true
	case a.children:
		return parent, false
	}
	return "", false
}

func (j *fileJudge) settleOf(dir string) settleAnswer {
	j.settle.mu.Lock()
	a, ok := j.settle.memo[dir]
	j.settle.mu.Unlock()
	if ok {
		return a
	}
	if j.files.CheckFile(dir, profiles.AccessRead).Allow {
		a = settleAnswer{subtree: j.pol.SubtreeLike(dir)}
		a.children = a.subtree || j.pol.ChildrenLike(dir)
	}
	j.settle.mu.Lock()
	if j.settle.memo == nil || len(j.settle.memo) >= settleMemo {
		j.settle.memo = map[string]settleAnswer{}
	}
	j.settle.memo[dir] = a
	j.settle.mu.Unlock()
	return a
}
