package integration

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The set-ID class: the agent's files are the invoker's on the host (root's, when agentrun
// runs as root), so a set-user-ID or set-group-ID program it leaves in the workspace would run
// as that user for anyone outside the sandbox. Every way to set the bits is refused, and none
// leaves a set-ID file behind; each twin makes the same file without them. The system call
// numbers are x86-64's.
func init() {
	noSetID := func(t *testing.T, r *runner, res result) error { return setIDFiles(r.ws) }
	setid := func(name, attack, want, control string) escapeAttempt {
		return escapeAttempt{class: "set-ID file", name: name, attack: attack, want: want, after: noSetID, control: control, controlWant: "ok"}
	}
	perl := func(code string) string { return "perl -MFcntl -e '" + code + "'" }
	escapeAttempts = append(escapeAttempts,
		setid("chmod u+s", "cp /bin/sh s && chmod u+s s", "Operation not permitted",
			"cp /bin/sh s && chmod u+x s && echo ok"),
		setid("chmod g+s", "cp /bin/sh s && chmod g+s s", "Operation not permitted",
			"cp /bin/sh s && chmod g+x s && echo ok"),
		setid("chmod 6755", "cp /bin/sh s && chmod 6755 s", "Operation not permitted",
			"cp /bin/sh s && chmod 0755 s && echo ok"),
		setid("install -m 4755", "install -m 4755 /bin/sh s", "Operation not permitted",
			"install -m 0755 /bin/sh s && echo ok"),
		// cp drops the bits itself when it cannot keep the owner; as root it would not.
		setid("cp -p of a setuid program", "cp -p /usr/bin/passwd p; [ -u p ] || [ -g p ]", "",
			"cp /usr/bin/passwd p && echo ok"),
		setid("open O_CREAT 04755", perl(`sysopen(F, "s", O_CREAT|O_WRONLY, 04755) or die "open: $!\n"`), "open: Operation not permitted",
			perl(`sysopen(F, "s", O_CREAT|O_WRONLY, 0755) or die "open: $!\n"; print "ok\n"`)),
		setid("open O_TMPFILE 02755", perl(`sysopen(F, ".", 020200000|O_WRONLY, 02755) or die "tmpfile: $!\n"`), "tmpfile: Operation not permitted",
			perl(`sysopen(F, ".", 020200000|O_WRONLY, 0755) or die "tmpfile: $!\n"; print "ok\n"`)),
		setid("fchmod of an open file", "touch s && "+perl(`open(my $f, "<", "s") or die; chmod(04755, $f) or die "fchmod: $!\n"`), "fchmod: Operation not permitted",
			"touch s && "+perl(`open(my $f, "<", "s") or die; chmod(0755, $f) or die "fchmod: $!\n"; print "ok\n"`)),
		setid("creat 04755", perl(`my $p = "s"; syscall(85, $p, 04755) >= 0 or die "creat: $!\n"`), "creat: Operation not permitted",
			perl(`my $p = "s"; syscall(85, $p, 0755) >= 0 or die "creat: $!\n"; print "ok\n"`)),
		setid("mknodat S_IFREG|04755", perl(`my $p = "s"; syscall(259, -100, $p, 0100000|04755, 0) >= 0 or die "mknodat: $!\n"`), "mknodat: Operation not permitted",
			perl(`my $p = "s"; syscall(259, -100, $p, 0100000|0755, 0) >= 0 or die "mknodat: $!\n"; print "ok\n"`)),
		setid("fchmodat2", "touch s && "+perl(`my $p = "s"; syscall(452, -100, $p, 04755, 0) >= 0 or die "fchmodat2: $!\n"`), "fchmodat2: Operation not permitted",
			"touch s && "+perl(`my $p = "s"; syscall(268, -100, $p, 0755, 0) >= 0 or die "fchmodat: $!\n"; print "ok\n"`)),
		setid("fchmodat, mode's upper half set", "touch s && "+perl(`my $p = "s"; syscall(268, -100, $p, (1<<32)|04755, 0) >= 0 or die "fchmodat: $!\n"`), "fchmodat: Operation not permitted",
			"touch s && "+perl(`my $p = "s"; syscall(268, -100, $p, (1<<32)|0755, 0) >= 0 or die "fchmodat: $!\n"; print "ok\n"`)),
		setid("openat2 creating 04755", perl(`my $p = "s"; my $how = pack("QQQ", O_CREAT|O_WRONLY, 04755, 0); syscall(437, -100, $p, $how, 24) >= 0 or die "openat2: $!\n"`), "openat2: Function not implemented",
			perl(`my $p = "s"; syscall(257, -100, $p, O_CREAT|O_WRONLY, 0755) >= 0 or die "openat: $!\n"; print "ok\n"`)),
		escapeAttempt{
			class: "set-ID file", name: "tar -xp of a set-ID program",
			setup: func(t *testing.T, r *runner) {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "suid"), []byte("#!/bin/sh\nid\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(filepath.Join(dir, "suid"), 0o4755|os.ModeSetuid); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command("tar", "-C", dir, "-cf", filepath.Join(r.home, "setid.tar"), "suid").CombinedOutput(); err != nil {
					t.Fatalf("tar: %v: %s", err, out)
				}
				chownToRunner(t, r, filepath.Join(r.home, "setid.tar"))
			},
			attack:  "tar -xpf ~/setid.tar && ls -l suid && [ -u suid ]",
			after:   noSetID,
			control: "tar -xf ~/setid.tar && [ -x suid ] && echo ok", controlWant: "ok",
		},
	)
}

// setIDFiles says which files beneath dir have a set-ID bit, or nil.
func setIDFiles(dir string) error {
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
			found = append(found, fmt.Sprintf("%s (%v)", p, fi.Mode()))
		}
		return nil
	})
	if len(found) > 0 {
		return fmt.Errorf("set-ID files left in the workspace: %v", found)
	}
	return nil
}
