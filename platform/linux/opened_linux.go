package linux

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/platform/linux/fileaudit"
	"github.com/agentrun/agentrun/platform/linux/kdenials"
	"github.com/agentrun/agentrun/platform/linux/kopens"
)

// openedPoll is how often the feed reads the recorder of opened files: its records never wake
// the reader (a wake-up per open costs the opener 8 µs more), so it polls.
const openedPoll = 10 * time.Millisecond

// openedRing is the recorder's buffer: a search opens tens of thousands of files a second,
// each record a hundred bytes or so.
const openedRing = 8 << 20

// maxKnown bounds the feed's own memory of the directories it has told the recorder about.
const maxKnown = 1 << 16

// openedFeed is audit mode's source of reads as root (fileaudit.WatchKernelReads): the
// kernel's recorder of the sandbox's successful opens (kopens), loaded for its PID namespace
// while the stage builds the root, and a goroutine that hands each open to the observer's
// judge.
type openedFeed struct {
	obs    *fileaudit.Observer
	stderr io.Writer
	loaded chan struct{} // closed once the load has ended, well or not
	r      *kopens.Recorder
	err    error
	fed    chan struct{} // closed when the feeding goroutine has stopped
}

// startOpened loads the recorder for the PID namespace of the stage at stagePid, in the
// background: wait says when it is attached.
func startOpened(stagePid int, obs *fileaudit.Observer, stderr io.Writer) *openedFeed {
	f := &openedFeed{obs: obs, stderr: stderr, loaded: make(chan struct{}), fed: make(chan struct{})}
	go func() {
		defer close(f.loaded)
		ns, err := kdenials.NamespaceOf(stagePid)
		if err == nil {
			f.r, err = kopens.Load(kopens.Options{NsDev: ns.Dev, NsIno: ns.Ino, NoWakeup: true, RingBytes: openedRing})
		}
		if err != nil {
			f.err = err
			close(f.fed)
			return
		}
		// A directory that moves takes its files' paths with it: what was known of them no
		// longer holds. Set before the agent runs (wait).
		obs.SetMoved(func() { _ = f.r.Forget() })
		go f.feed()
	}()
	return f
}

// wait returns once the recorder is attached, or could not be: before the agent may run, so
// that none of its reads is missed.
func (f *openedFeed) wait() { <-f.loaded }

func (f *openedFeed) feed() {
	defer close(f.fed)
	var known knownDirs
	for failed := 0; failed < 100; {
		o, err := f.r.Read(time.Now().Add(openedPoll))
		switch {
		case err == nil && known.cover(o):
		case err == nil:
			if dir, subtree := f.obs.Opened(o); dir != "" {
				// What else is in it need not be reported: one record per directory, or per
				// tree, instead of one per file.
				if d, ok := o.DirOf(dir); ok {
					_ = f.r.Remember(d, subtree) // a full map forgets the least used
					known.add(d, subtree)
				}
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
		case errors.Is(err, kopens.ErrFlushed), errors.Is(err, os.ErrClosed):
			return // flushed by close: every record the sandbox made is read
		default:
			// A record it could not decode is consumed: the next may be fine.
			failed++
			fmt.Fprintf(f.stderr, "agentrun: reading the kernel's recorder of opened files: %v\n", err)
		}
	}
}

// knownDirs are the directories the feed has told the recorder about (with their
// generation): the records the kernel made of their files before it was told are passed over
// here, unjudged, as the kernel would have passed them over (a search opens hundreds of files
// before the first is judged).
type knownDirs struct{ children, subtree map[kopens.Dir]bool }

func (k *knownDirs) add(d kopens.Dir, subtree bool) {
	if k.children == nil || len(k.children)+len(k.subtree) >= maxKnown {
		k.children, k.subtree = map[kopens.Dir]bool{}, map[kopens.Dir]bool{}
	}
	if subtree {
		k.subtree[d] = true
	} else {
		k.children[d] = true
	}
}

// cover says whether o is of a file directly in a known directory, or beneath one known with
// all beneath it.
func (k *knownDirs) cover(o kopens.Open) bool {
	if o.Dir.Dentry != 0 && (k.children[o.Dir] || k.subtree[o.Dir]) {
		return true
	}
	for _, d := range o.Dirs {
		if k.subtree[d] {
			return true
		}
	}
	return false
}

// close ends the feed once the sandbox has ended, so that every record it made is in the
// recorder's buffer: judges those, releases the recorder, and says what was lost.
func (f *openedFeed) close() {
	<-f.loaded
	if f.err != nil {
		fmt.Fprintf(f.stderr, "agentrun: the kernel's recorder of opened files could not be set up: %v; the sandbox's reads were not recorded (--trace records each one, making it wait)\n", f.err)
		return
	}
	if err := f.r.Flush(); err != nil {
		_ = f.r.Close() // the reader returns: what it had not read is lost
		fmt.Fprintf(f.stderr, "agentrun: ending the kernel's recorder of opened files: %v\n", err)
	}
	<-f.fed
	if n := f.r.Drops(); n > 0 {
		fmt.Fprintf(f.stderr, "agentrun: %s of the sandbox's reads were not judged: they came faster than agentrun could read them (the kernel's buffer was full); --trace records every call, making each wait\n", display.Thousands(int(n)))
	}
	if n := f.obs.Unjudged(); n > 0 {
		fmt.Fprintf(f.stderr, "agentrun: %s of the sandbox's reads were not judged: their path could not be looked up in the sandbox's view\n", display.Thousands(int(n)))
	}
	_ = f.r.Close()
}
