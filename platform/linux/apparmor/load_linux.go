package apparmor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// FS is where the kernel's AppArmor interface is mounted.
const FS = "/sys/kernel/security/apparmor"

// RuntimeProfile compiles pol for one run. The name carries a hash of the text: a profile's
// rules hold one launch's paths (its workspace), and runs of the same profile elsewhere must
// not replace each other's.
func RuntimeProfile(pol *profiles.Policy) (name string, text []byte, err error) {
	plain, err := Compile(pol)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(plain)
	name = ProfileName(pol) + "-" + hex.EncodeToString(sum[:4])
	text, err = compileAs(pol, name)
	return name, text, err
}

// Loaded is an AppArmor profile this run loaded (or shares with other runs that
// loaded the same text): the run holds a shared lock on its lock file while it lives, and the
// last run to let go removes the profile from the kernel.
type Loaded struct {
	name string
	lock *os.File
	path string
}

// Load loads text (a profile named name) into the kernel with apparmor_parser,
// replacing a profile of that name, and takes a share of it.
func Load(stateRoot, name string, text []byte) (*Loaded, error) {
	dir := filepath.Join(stateRoot, "apparmor")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &Loaded{name: name, path: filepath.Join(dir, name+".lock")}
	for try := 0; ; try++ {
		f, err := os.OpenFile(p.path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
			f.Close()
			return nil, err
		}
		// The last run of this profile may have removed the file while we waited.
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(p.path, &now) == nil && held.Ino == now.Ino {
			p.lock = f
			break
		}
		f.Close()
		if try == 10 {
			return nil, fmt.Errorf("locking %s: it keeps being removed", p.path)
		}
	}
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		p.Release()
		return nil, fmt.Errorf("apparmor_parser is not installed (apt-get install apparmor)")
	}
	cmd := exec.Command(parser, "--replace", "--skip-cache", "--quiet")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		p.Release()
		return nil, fmt.Errorf("loading the AppArmor profile %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return p, nil
}

// Release lets go of this run's share; the last one removes the profile from the kernel.
func (p *Loaded) Release() {
	if p.lock == nil {
		return
	}
	_ = unix.Flock(int(p.lock.Fd()), unix.LOCK_UN)
	if unix.Flock(int(p.lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		_ = os.WriteFile(filepath.Join(FS, ".remove"), []byte(p.name), 0)
		_ = os.Remove(p.path)
		_ = os.Remove(filepath.Dir(p.path)) // only once empty
	}
	p.lock.Close()
	p.lock = nil
}

// Log follows the kernel's AppArmor records of one profile while a run lasts: from
// /dev/kmsg (which also feeds dmesg, journald and syslog) and, where auditd takes the kernel's
// audit records instead, from /var/log/audit/audit.log. Each record becomes an event.
type Log struct {
	profile string
	sink    events.Sink
	stop    chan struct{}
	wg      sync.WaitGroup
}

const auditLogPath = "/var/log/audit/audit.log"

// Follow starts following the records of the AppArmor profile called profile, recording
// each in sink.
func Follow(profile string, sink events.Sink) *Log {
	l := &Log{profile: profile, sink: sink, stop: make(chan struct{})}
	// Raw descriptors, not os.File: Go would park a read of a non-blocking /dev/kmsg in its
	// poller until a record came, and the follower could never stop.
	for _, src := range []struct {
		path string
		kmsg bool
	}{{"/dev/kmsg", true}, {auditLogPath, false}} {
		fd, err := unix.Open(src.path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
			unix.Close(fd)
			continue
		}
		l.wg.Add(1)
		go l.follow(fd, src.kmsg)
	}
	return l
}

// follow reads records until Close: kmsg gives one record a read (EAGAIN when there is none
// yet), audit.log is a file that grows.
func (l *Log) follow(fd int, kmsg bool) {
	defer l.wg.Done()
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	var rest []byte
	draining := false
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case n > 0 && kmsg:
			l.record(string(buf[:n]))
			continue
		case n > 0:
			rest = append(rest, buf[:n]...)
			for {
				i := bytes.IndexByte(rest, '\n')
				if i < 0 {
					break // the rest is a line still being written
				}
				l.record(string(rest[:i]))
				rest = rest[i+1:]
			}
			continue
		case err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EPIPE):
			return // EPIPE: kmsg records were overwritten before we read them; read on
		}
		if draining {
			return
		}
		select {
		case <-l.stop:
			draining = true // one more pass for what came in the meantime
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l *Log) record(line string) {
	e, ok := parseAppArmorRecord(line, l.profile)
	if !ok {
		return
	}
	l.sink.Record(e)
}

// Close stops following after a last look for records of the run's end.
func (l *Log) Close() {
	close(l.stop)
	l.wg.Wait()
}
