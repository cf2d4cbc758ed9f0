package userdirs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
)

// agentrun is built without cgo where it can be (amd64: a static binary, without the C
// library's start-up at every launch), so os/user reads /etc/passwd and /etc/group only. The
// host's other name services (LDAP, sssd, systemd's user records) are asked through
// getent(1), as glibc answers it: for a user /etc/passwd does not know, and for the groups of
// a user where nsswitch.conf takes groups from more than local files.

// getentDirs are where getent is looked for: not $PATH, which the invoker of sudo may set.
var getentDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// lookupID is the user with uid: from /etc/passwd, else from getent.
func lookupID(uid string) (*user.User, error) {
	u, err := user.LookupId(uid)
	var unknown user.UnknownUserIdError
	if err == nil || !errors.As(err, &unknown) {
		return u, err
	}
	return getentUser(uid)
}

// getentUser is the user with uid as getent passwd answers.
func getentUser(uid string) (*user.User, error) {
	out, err := getent("passwd", uid)
	if err != nil {
		return nil, err
	}
	return parsePasswd(out, uid)
}

// groupIDs are u's group ids, its primary group first: from /etc/group where nsswitch.conf
// takes groups from local files only, else as getent's initgroups answers.
func groupIDs(u *user.User) ([]string, error) {
	if localGroups(readFile("/etc/nsswitch.conf")) {
		return u.GroupIds()
	}
	return initgroups(u)
}

// initgroups are u's group ids as getent's initgroups answers (what glibc's getgrouplist
// answers, less the primary group), its primary group first.
func initgroups(u *user.User) ([]string, error) {
	out, err := getent("initgroups", u.Username)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 || fields[0] != u.Username {
		return nil, fmt.Errorf("getent initgroups %s answered %q", u.Username, out)
	}
	ids := []string{u.Gid}
	for _, id := range fields[1:] {
		if _, err := strconv.ParseUint(id, 10, 32); err != nil {
			return nil, fmt.Errorf("getent initgroups %s answered %q", u.Username, out)
		}
		if id != u.Gid {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// getent runs getent DB KEY and returns its answer; a key it does not know is an error (its
// exit status 2).
func getent(db, key string) ([]byte, error) {
	var path string
	for _, d := range getentDirs {
		if fi, err := os.Stat(d + "/getent"); err == nil && fi.Mode().IsRegular() {
			path = d + "/getent"
			break
		}
	}
	if path == "" {
		return nil, fmt.Errorf("looking up %s %s: getent is not installed", db, key)
	}
	cmd := exec.Command(path, "--", db, key) // a key may start with "-"
	cmd.Env = []string{"LC_ALL=C"}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("getent %s %s: %w", db, key, err)
	}
	return out, nil
}

// parsePasswd is the user of uid in getent passwd's answer (name:pw:uid:gid:gecos:home:shell).
func parsePasswd(out []byte, uid string) (*user.User, error) {
	line, _, _ := bytes.Cut(bytes.TrimRight(out, "\n"), []byte("\n"))
	f := strings.Split(string(line), ":")
	if len(f) != 7 || f[2] != uid || f[0] == "" {
		return nil, fmt.Errorf("getent passwd %s answered %q", uid, out)
	}
	if _, err := strconv.ParseUint(f[3], 10, 32); err != nil {
		return nil, fmt.Errorf("getent passwd %s answered %q", uid, out)
	}
	name, _, _ := strings.Cut(f[4], ",")
	return &user.User{Uid: f[2], Gid: f[3], Username: f[0], Name: name, HomeDir: f[5]}, nil
}

// localGroups reports whether nsswitch.conf takes groups from local files only: "files"
// (and systemd's, which names only its own dynamic users' groups); no file means glibc's
// default, files.
func localGroups(conf []byte) bool {
	for _, s := range nsswitchSources(conf, "group") {
		if s != "files" && s != "systemd" && !strings.HasPrefix(s, "[") {
			return false
		}
	}
	return true
}

// nsswitchSources are the sources (and [actions]) nsswitch.conf names for db.
func nsswitchSources(conf []byte, db string) []string {
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if d, sources, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(d) == db {
			return strings.Fields(sources)
		}
	}
	return nil
}

func readFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}
