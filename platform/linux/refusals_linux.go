package linux

import (
	"errors"
	"fmt"
	"io"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/platform/linux/fileaudit"
	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/platform/steps"
)

// refusalFeed is the denial records layer of one run: the kernel denial recorder, loaded for
// the sandbox's PID namespace while the stage builds the root, and a goroutine that hands each
// refusal it reports to the observer's judge.
type refusalFeed struct {
	obs    *fileaudit.Observer
	stderr io.Writer
	loaded chan struct{} // closed once the load has ended, well or not
	w      *kdenials.Watcher
	err    error
	fed    chan struct{} // closed when the feeding goroutine has stopped
	read   int           // the records fed, once fed is closed
	// scope is the run's: audit mode as root (fileaudit.WatchKernelReads), whose refused reads
	// it is, or enforce mode (WatchExecs), every refused file call of which it is.
	scope fileaudit.Scope
}

// startRefusals loads the recorder of the calls scope leaves to it for the PID namespace of
// the stage at stagePid, in the background: wait says when it is attached.
func startRefusals(stagePid int, scope fileaudit.Scope, obs *fileaudit.Observer, stderr io.Writer) *refusalFeed {
	f := &refusalFeed{obs: obs, stderr: stderr, loaded: make(chan struct{}), fed: make(chan struct{}), scope: scope}
	obs.ReadsRefusals()
	go func() {
		defer close(f.loaded)
		steps.Step("recorder: loading")
		defer steps.Step("recorder: load ended")
		ns, err := kdenials.NamespaceOf(stagePid)
		if err == nil {
			f.w, err = kdenials.Load(ns, fileaudit.RefusalCalls(scope), fileaudit.RefusalErrnos(scope))
		}
		if err != nil {
			f.err = err
			close(f.fed)
			return
		}
		obs.PassOverIn(f.w)
		go f.feed()
	}()
	return f
}

// noRefusalRecords is what a run says where the filter left every file call's denial to the
// recorder (fileaudit.WatchExecs), and the recorder could not be loaded after all.
const noRefusalRecords = "the sandbox's denied reads and writes were not recorded: use --mode audit or --trace to see them"

// wait returns once the recorder is attached, or could not be: before the agent may run, so
// that none of its refusals is missed.
func (f *refusalFeed) wait() { <-f.loaded }

func (f *refusalFeed) feed() {
	defer close(f.fed)
	for {
		r, err := f.w.Read()
		if err != nil {
			if !errors.Is(err, kdenials.ErrFlushed) && !errors.Is(err, kdenials.ErrClosed) {
				fmt.Fprintf(f.stderr, "agentrun: %v\n", err)
			}
			return // flushed by close: every record the sandbox made is read
		}
		f.read++
		f.obs.Refused(r)
	}
}

// drain ends the feed once the sandbox has ended, so that every record it made is in the
// recorder's buffer: judges those, and says what was lost. release then lets the recorder go.
func (f *refusalFeed) drain() {
	<-f.loaded
	if f.err != nil && f.scope == fileaudit.WatchKernelReads {
		fmt.Fprintf(f.stderr, "agentrun: the kernel's recorder of refused calls could not be set up: %v; the sandbox's refused reads were not recorded (--trace records each one, making it wait)\n", f.err)
		return
	}
	if f.err != nil {
		no := platform.NoDenialRecords
		if f.scope == fileaudit.WatchExecs {
			no = noRefusalRecords
		}
		fmt.Fprintf(f.stderr, "agentrun: the %s layer could not be set up: %v; %s\n", platform.LayerDenials, f.err, no)
		return
	}
	if err := f.w.Flush(); err != nil {
		_ = f.w.Close() // the reader returns: what it had not read is lost
		fmt.Fprintf(f.stderr, "agentrun: ending the %s: %v\n", platform.LayerDenials, err)
	}
	<-f.fed
	if steps.Enabled() { // a map lookup and a format, on every run's way out otherwise
		steps.Step(fmt.Sprintf("recorder: %d refusals read, %d passed over in the kernel", f.read, f.w.PassedOver()))
	}
	if n := f.w.Dropped(); n > 0 {
		fmt.Fprintf(f.stderr, "agentrun: %s of the sandbox's refused calls were not recorded: they came faster than agentrun could read them (the kernel's buffer was full); --trace records every call, making each wait\n", display.Thousands(int(n)))
	}
	if n := f.obs.Unplaced(); n > 0 {
		fmt.Fprintf(f.stderr, "agentrun: %s refused calls were not recorded: their process had ended before agentrun could resolve the path they named, or their path could not be read; --trace records every call while it waits\n", display.Thousands(int(n)))
	}
}

// release detaches and frees the recorder (its detach waits for an RCU grace period, up to a
// few milliseconds: close runs it beside the rest). After drain.
func (f *refusalFeed) release() {
	if f.w != nil {
		_ = f.w.Close()
	}
}
