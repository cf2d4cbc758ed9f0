package fileaudit

import (
	"testing"
)

// TestScriptReadsWaitTheirTurn: while every slot of the script reader is taken (reads that
// wait, on a FUSE file system say), a script's read waits for one instead of being dropped,
// and its refused interpreter is recorded once it runs: an agent cannot hide a refused
// interpreter behind a flood of execs. Past maxScriptWaiting, or at the run's end, a read not
// done is counted (UnreadScripts), never dropped in silence.
func TestScriptReadsWaitTheirTurn(t *testing.T) {
	script, interp, pol := scriptFixture(t)
	judgeExec := func(j *fileJudge) {
		t.Helper()
		a := decodeExec(t, script)
		j.judge(&a)
		a.release()
	}
	events := func(j *fileJudge) int {
		c := j.sink.(*collect)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, e := range c.evs {
			if e.Path != interp {
				t.Errorf("event %+v, want one of %s", e, interp)
			}
		}
		return len(c.evs)
	}
	takeSlots := func(j *fileJudge) {
		for range maxScriptReads {
			j.scripts.slots <- struct{}{}
		}
	}
	freeSlots := func(j *fileJudge) {
		for range maxScriptReads {
			<-j.scripts.slots
		}
	}

	t.Run("waits", func(t *testing.T) {
		j := newFileJudge(pol, &fileJudgeSpec{sink: &collect{}})
		takeSlots(j)
		judgeExec(j)
		if n := events(j); n != 0 {
			t.Fatalf("%d events before a slot was free", n)
		}
		freeSlots(j)
		j.scripts.wg.Wait()
		if n := events(j); n != 1 {
			t.Errorf("%d events of the refused interpreter once a slot was free, want 1", n)
		}
		j.close()
		if n := j.scripts.unread.Load(); n != 0 {
			t.Errorf("%d unread, want 0", n)
		}
	})
	t.Run("past the bound", func(t *testing.T) {
		j := newFileJudge(pol, &fileJudgeSpec{sink: &collect{}})
		j.scripts.todo.Store(maxScriptReads + maxScriptWaiting)
		judgeExec(j)
		if n := j.scripts.unread.Load(); n != 1 {
			t.Errorf("a read past the bound: %d unread, want 1", n)
		}
		j.scripts.todo.Store(0)
		j.close()
	})
	t.Run("run ends first", func(t *testing.T) {
		j := newFileJudge(pol, &fileJudgeSpec{sink: &collect{}})
		takeSlots(j)
		judgeExec(j)
		j.close() // waits scriptDrain for it
		if n := j.scripts.unread.Load(); n != 1 {
			t.Errorf("a read still waiting at the end: %d unread, want 1", n)
		}
		freeSlots(j)
		j.scripts.wg.Wait()
		if n := events(j); n != 0 {
			t.Errorf("%d events recorded after the end", n)
		}
		judgeExec(j)
		if n := j.scripts.unread.Load(); n != 2 {
			t.Errorf("a read started after the end: %d unread, want 2", n)
		}
	})
}
