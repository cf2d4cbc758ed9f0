package fileaudit

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/profiles"
)

// TestNeedsCallerAnswersAsTheJudge decodes real execs of this process against real files —
// a program and a script the policy lets run, a program and a script interpreter it does not,
// a missing path — and judges each in enforce mode, with --trace and in audit mode: the
// notifier may let a call go on without reading its caller only where the judge then makes
// no event of it, and only once the program is known to be no script, as the call found it.
func TestNeedsCallerAnswersAsTheJudge(t *testing.T) {
	allowed, denied := t.TempDir(), t.TempDir()
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy:", err)
	}
	write := func(p string, b []byte) string {
		t.Helper()
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prog := write(filepath.Join(allowed, "prog"), elf)
	refusedProg := write(filepath.Join(denied, "prog"), elf)
	script := write(filepath.Join(allowed, "script"), []byte("#!"+prog+"\n"))
	badScript := write(filepath.Join(allowed, "bad-script"), []byte("#!"+refusedProg+"\n"))
	missing := filepath.Join(allowed, "missing")
	rule := func(dir string) profiles.PathRule { return profiles.PathRule{Path: dir, Pattern: dir + "/**"} }
	pol := &profiles.Policy{
		Filesystem: profiles.FilesystemPolicy{Read: []profiles.PathRule{rule(allowed), rule(denied)}},
		Exec:       profiles.ExecPolicy{Allow: []profiles.PathRule{rule(allowed)}},
	}
	decode := func(p string) fileAccess { t.Helper(); return decodeExec(t, p) }
	// judged is how many events the judge makes of an exec of p, the script reader's too.
	judged := func(j *fileJudge, p string) int {
		t.Helper()
		sink := j.sink.(*collect)
		sink.mu.Lock()
		before := len(sink.evs)
		sink.mu.Unlock()
		a := decode(p)
		j.judge(&a)
		a.release()
		j.scripts.wg.Wait()
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return len(sink.evs) - before
	}
	needs := func(j *fileJudge, p string) bool {
		t.Helper()
		a := decode(p)
		defer a.release()
		return j.needsCaller(&a)
	}
	for _, mode := range []struct {
		name         string
		spec         fileJudgeSpec
		neverSkipped bool
	}{
		{"enforce", fileJudgeSpec{}, false},
		{"trace", fileJudgeSpec{trace: true}, true},
		{"audit", fileJudgeSpec{audit: true}, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			spec := mode.spec
			spec.sink = &collect{}
			j := newFileJudge(pol, &spec)
			if !needs(j, prog) {
				t.Errorf("an exec of a program never read is let go on unread")
			}
			for _, p := range []string{prog, refusedProg, script, badScript, missing} {
				n := judged(j, p) // the script reader learns what is no script
				need := needs(j, p)
				if n > 0 && !need {
					t.Errorf("%s: the judge makes %d events, and its caller would not be read", p, n)
				}
				if mode.neverSkipped && !need {
					t.Errorf("%s: a caller is left unread in %s mode", p, mode.name)
				}
			}
			if mode.neverSkipped {
				return
			}
			if needs(j, prog) {
				t.Errorf("an exec of an allowed program known to be no script reads its caller")
			}
			for _, p := range []string{refusedProg, script, badScript, missing} {
				if !needs(j, p) {
					t.Errorf("%s: its caller is not read", p)
				}
			}
			// Another version of the program: unknown again until it is read.
			f, err := os.OpenFile(prog, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Write([]byte{0})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !needs(j, prog) {
				t.Errorf("an exec of a program changed since it was read leaves its caller unread")
			}
			// The ways around, once the refused program is known to be no script: a symlink
			// to it from the allowed directory, a hard link to it there (the same file), and
			// the allowed directory moved aside and made again with a script of the refused
			// program at the known program's path.
			judged(j, refusedProg)
			link, hard := filepath.Join(allowed, "link"), filepath.Join(allowed, "hard")
			if err := os.Symlink(refusedProg, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(refusedProg, hard); err != nil {
				t.Fatal(err)
			}
			if !needs(j, link) {
				t.Errorf("an exec through a symlink to a refused program leaves its caller unread")
			}
			if judged(j, link) == 0 {
				t.Errorf("an exec through a symlink to a refused program makes no event")
			}
			// The hard link is the allowed directory's to run (the policy and Landlock go by
			// the path): skipped or not, the judge makes no event of it.
			if need := needs(j, hard); !need && judged(j, hard) > 0 {
				t.Errorf("an exec of a hard link to a known program makes an event, and its caller would not be read")
			}
			judged(j, prog)
			if needs(j, prog) {
				t.Fatalf("the program is not known to be no script")
			}
			if err := os.Rename(allowed, allowed+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(allowed, 0o755); err != nil {
				t.Fatal(err)
			}
			write(prog, []byte("#!"+refusedProg+"\n"))
			if !needs(j, prog) {
				t.Errorf("an exec of a script put where a known program was leaves its caller unread")
			}
			if n := judged(j, prog); n != 1 {
				t.Errorf("the script's refused interpreter makes %d events, want 1", n)
			}
		})
	}
}

// decodeExec is the notifier's decoding of an exec of p by this thread (the view is this
// process's, whose /tmp is not the sandbox's own here). Release it.
func decodeExec(t *testing.T, p string) fileAccess {
	t.Helper()
	own := &ownFS{devs: map[uint64]bool{}}
	a, ok := decodeCall(watchedCalls[unix.SYS_EXECVE], unix.Gettid(), [6]uint64{}, 0, [][]byte{[]byte(p)}, own,
		func(int, int) (string, bool) { return "", false }, func() bool { return true })
	if !ok {
		t.Fatalf("the exec of %s was not decoded", p)
	}
	return a
}

// scriptFixture is a script the policy lets run whose interpreter it refuses, and that policy.
func scriptFixture(t *testing.T) (script, interp string, pol *profiles.Policy) {
	t.Helper()
	allowed, denied := t.TempDir(), t.TempDir()
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy:", err)
	}
	interp, script = filepath.Join(denied, "interp"), filepath.Join(allowed, "script")
	for p, b := range map[string][]byte{interp: elf, script: []byte("#!" + interp + "\n")} {
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(dir string) profiles.PathRule { return profiles.PathRule{Path: dir, Pattern: dir + "/**"} }
	return script, interp, &profiles.Policy{
		Filesystem: profiles.FilesystemPolicy{Read: []profiles.PathRule{rule(allowed), rule(denied)}},
		Exec:       profiles.ExecPolicy{Allow: []profiles.PathRule{rule(allowed)}},
	}
}

// TestUnreadCallerReadForItsEvent: an access the notifier let go on without reading its
// caller that the judge makes an event of after all (a script whose interpreter the policy
// refuses, found by the script reader) has its caller read then, while it lives.
func TestUnreadCallerReadForItsEvent(t *testing.T) {
	sink := &collect{}
	j := newFileJudge(&profiles.Policy{}, &fileJudgeSpec{sink: sink})
	a := fileAccess{pid: unix.Gettid(), op: "exec", callerUnread: true, execFD: -1}
	j.record(&a, "/usr/bin/perl", "exec", profiles.AccessDecision{Rule: "exec.allow"})
	if len(sink.evs) != 1 {
		t.Fatalf("events %+v, want one", sink.evs)
	}
	if e := sink.evs[0]; e.Process == "" || e.Exe == "" {
		t.Errorf("event %+v names no process", e)
	}
}

// TestProgramIDTellsReusedInodesApart is the way around a program's version: on ext4 a file
// made right after another was removed gets its inode number, and on a kernel whose ctime is
// the coarse clock's (before Linux 6.13's multigrain timestamps) often its ctime too; a script
// made so in place of a program known to be plain must not be taken for it. The inode's
// generation, in its handle, tells them apart: the test gives the second file the first one's
// ctime, as such a kernel would have.
func TestProgramIDTellsReusedInodesApart(t *testing.T) {
	dir, err := os.MkdirTemp("/var/tmp", "agentrun-programid-")
	if err != nil {
		t.Skip("no /var/tmp to write in:", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.EXT4_SUPER_MAGIC {
		t.Skip("/var/tmp is not on ext4 here: its inode numbers may not be reused at once")
	}
	version := func(p string, b []byte) programID {
		t.Helper()
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		id := programIDOf(fd, &st)
		if id.handle == "" {
			t.Fatalf("%s: no file handle on ext4: no program there would ever be known", p)
		}
		return id
	}
	p := filepath.Join(dir, "prog")
	for range 100 {
		plain := version(p, []byte("\x7fELF"))
		script := version(p, []byte("#!/refused/interpreter\n"))
		if plain.dev != script.dev || plain.ino != script.ino {
			continue
		}
		script.ctime = plain.ctime
		if plain == script {
			t.Fatalf("a script made in a removed program's inode, within its tick, has its version: %+v", plain)
		}
		return
	}
	t.Skip("no inode number was given again in 100 tries here")
}

// TestProgramIDsHaveHandles: the file systems programs run from give handles, without which
// no version is known (every exec would read its caller).
func TestProgramIDsHaveHandles(t *testing.T) {
	for _, dir := range []string{"/usr/bin", "/dev/shm", os.TempDir()} {
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if handleOf(fd) == "" {
			var fs unix.Statfs_t
			unix.Fstatfs(fd, &fs)
			t.Errorf("%s (file system %#x): no handle", dir, fs.Type)
		}
		unix.Close(fd)
	}
}
