package linux

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// each record a few hundred bytes, though most stop being recorded once their directory is
// judged (Remember).
const openedRing = 4 << 20

// maxKnown bounds the feed's own memory of the directories it has told the recorder about.
const maxKnown = 1 << 16

// openedLoad is audit mode's recorder of reads as root (kopens) being loaded, from the
// launch's start: the load (the kernel's BTF, the verifier) takes longer than the stage's
// start, and whether it succeeded decides the seccomp filter (fileaudit.ScopeOf).
type openedLoad struct {
	done  chan struct{}
	r     *kopens.Recorder
	err   error
	taken bool
}

// preloadOpened starts loading the recorder; it records nothing until attached (startOpened).
func preloadOpened() *openedLoad {
	l := &openedLoad{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.r, l.err = kopens.Load(kopens.Options{NoWakeup: true, RingBytes: openedRing, OffsetsCache: offsetsCache()})
	}()
	return l
}

// offsetsCache is where the recorder keeps the kernel's struct offsets between launches: the
// user's cache directory (root's, as root), or "" where there is none.
func offsetsCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "agentrun", "kernel-offsets.json")
}

// take waits for the load and hands the recorder over to the caller, who closes it.
func (l *openedLoad) take() (*kopens.Recorder, error) {
	<-l.done
	l.taken = true
	return l.r, l.err
}

// release closes the recorder if nobody took it (a launch that ended before its sandbox).
func (l *openedLoad) release() {
	<-l.done
	if !l.taken && l.r != nil {
		_ = l.r.Close()
	}
}

// openedFeed is audit mode's source of reads as root (fileaudit.WatchKernelReads): the
// kernel's recorder of the sandbox's successful opens (kopens), configured for its PID
// namespace and run by the kernel denial recorder's program for successful calls (or on its
// own where that recorder could not be loaded), and a goroutine that hands each open to the
// observer's judge.
type openedFeed struct {
	obs     *fileaudit.Observer
	stderr  io.Writer
	r       *kopens.Recorder
	chained *kdenials.Watcher // the recorder that runs r's program, if one does
	fed     chan struct{}     // closed when the feeding goroutine has stopped
}

// startOpened configures r, loaded, for the PID namespace of the stage at stagePid and feeds
// its records to obs; attach then makes the kernel run it. On failure it closes r.
func startOpened(r *kopens.Recorder, stagePid int, obs *fileaudit.Observer, stderr io.Writer) (*openedFeed, error) {
	ns, err := kdenials.NamespaceOf(stagePid)
	if err == nil {
		err = r.Configure(ns.Dev, ns.Ino)
	}
	if err != nil {
		_ = r.Close()
		return nil, openedError(err)
	}
	f := &openedFeed{obs: obs, stderr: stderr, r: r, fed: make(chan struct{})}
	// A directory that moves takes its files' paths with it: what was known of them no
	// longer holds, from before the call (Forget) to after it (the kernel, at its exit: a walk
	// beside the call may read a path half old, half new).
	obs.SetMoved(func(tid int) {
		_ = f.r.Moving(tid)
		_ = f.r.Forget()
	})
	go f.feed()
	return f, nil
}

// attach makes the kernel run the recorder, before the agent runs: chained to w, the kernel
// denial recorder (nil where it could not be loaded), or on its own tracepoint.
func (f *openedFeed) attach(w *kdenials.Watcher) error {
	var err error
	if w != nil {
		if err = w.Chain(f.r.Program(), kopens.Calls); err == nil {
			f.chained = w
		}
	} else {
		err = f.r.Attach()
	}
	if err != nil {
		return openedError(err)
	}
	return nil
}

func openedError(err error) error {
	return fmt.Errorf("audit mode's recorder of reads (the kernel's, as root): %w; --trace records reads through the seccomp notifier instead", err)
}

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
	if d, ok := o.Parent(); ok && k.children[d] {
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
	if f.chained != nil {
		_ = f.chained.Unchain() // before the flush: nothing comes after it
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
