package userdirs

import (
	"os"
	"os/exec"
	"os/user"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

func TestParsePasswd(t *testing.T) {
	u, err := parsePasswd([]byte("jdoe:*:123456:5000:Jane Doe,,,:/home/jdoe:/bin/zsh\n"), "123456")
	if err != nil {
		t.Fatal(err)
	}
	want := &user.User{Uid: "123456", Gid: "5000", Username: "jdoe", Name: "Jane Doe", HomeDir: "/home/jdoe"}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("got %+v, want %+v", u, want)
	}
	for _, bad := range []string{
		"",
		"jdoe:*:123457:5000::/home/jdoe:/bin/zsh",  // another uid
		"jdoe:*:123456:staff::/home/jdoe:/bin/zsh", // a group that is no number
		"jdoe:*:123456:5000:/home/jdoe:/bin/zsh",   // six fields
		":*:123456:5000::/home/jdoe:/bin/zsh",      // no name
	} {
		if u, err := parsePasswd([]byte(bad), "123456"); err == nil {
			t.Errorf("%q: got %+v, want an error", bad, u)
		}
	}
}

func TestLocalGroups(t *testing.T) {
	for conf, want := range map[string]bool{
		"": true, // glibc's default: files
		"passwd: files\ngroup:          files systemd\n": true,
		"group: files [SUCCESS=merge] systemd":           true,
		"# group: sss\ngroup: files":                     true,
		"group: files sss":                               false,
		"group:\tfiles ldap # directory":                 false,
		"passwd: files ldap\ngroup: compat":              false,
	} {
		if got := localGroups([]byte(conf)); got != want {
			t.Errorf("%q: %v, want %v", conf, got, want)
		}
	}
}

// TestGetentAsOSUser asks this host's getent for real and checks that its answers read as
// os/user reads /etc/passwd and /etc/group: root, and, as root, a user made for the test with
// two supplementary groups.
func TestGetentAsOSUser(t *testing.T) {
	if _, err := exec.LookPath("getent"); err != nil {
		t.Skip("getent is not installed")
	}
	got, err := getentUser("0")
	if err != nil {
		t.Fatal(err)
	}
	want, err := user.LookupId("0")
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != want.Username || got.Gid != want.Gid || got.HomeDir != want.HomeDir {
		t.Fatalf("getent: %+v, os/user: %+v", got, want)
	}
	if _, err := getentUser("4294967290"); err == nil {
		t.Error("getent passwd of a uid nobody has: no error")
	}

	if os.Geteuid() != 0 {
		t.Skip("making a user with groups needs root")
	}
	name := "agentrun-lookup-" + strconv.Itoa(os.Getpid()%100000)
	if out, err := exec.Command("useradd", "-M", "-G", "audio,video", name).CombinedOutput(); err != nil {
		t.Skipf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := u.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	nss, err := initgroups(u)
	if err != nil {
		t.Fatal(err)
	}
	if nss[0] != u.Gid || len(nss) != 3 {
		t.Fatalf("initgroups: %v, want the primary group %s and two more", nss, u.Gid)
	}
	slices.Sort(files)
	slices.Sort(nss)
	if !slices.Equal(files, nss) {
		t.Fatalf("initgroups %v, /etc/group %v", nss, files)
	}
	if byID, err := lookupID(u.Uid); err != nil || byID.Username != name {
		t.Fatalf("lookupID(%s): %+v, %v", u.Uid, byID, err)
	}
}

// TestGetentUserOfNameServices looks up, through getent, a user only a name service knows:
// a systemd user record in /run/userdb (nss-systemd), which /etc/passwd, and so os/user
// without cgo, does not have.
func TestGetentUserOfNameServices(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("writing a user record in /run/userdb needs root")
	}
	if !slices.Contains(nsswitchSources(readFile("/etc/nsswitch.conf"), "passwd"), "systemd") {
		t.Skip("nsswitch.conf does not ask systemd for users")
	}
	if _, err := exec.LookPath("getent"); err != nil {
		t.Skip("getent is not installed")
	}
	const uid, name = "61234", "agentrun-userdb"
	if _, err := user.LookupId(uid); err == nil {
		t.Skipf("uid %s is taken on this host", uid)
	}
	made := false
	if _, err := os.Stat("/run/userdb"); os.IsNotExist(err) {
		if err := os.Mkdir("/run/userdb", 0o755); err != nil {
			t.Fatal(err)
		}
		made = true
	}
	record := "/run/userdb/" + name + ".user"
	link := "/run/userdb/" + uid + ".user"
	t.Cleanup(func() {
		os.Remove(link)
		os.Remove(record)
		if made {
			os.Remove("/run/userdb")
		}
	})
	body := `{"userName":"` + name + `","uid":` + uid + `,"gid":` + uid + `,"homeDirectory":"/home/` + name + `","shell":"/bin/sh"}`
	if err := os.WriteFile(record, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(name+".user", link); err != nil {
		t.Fatal(err)
	}
	u, err := getentUser(uid)
	if err != nil {
		t.Fatalf("getent did not find the user record: %v", err)
	}
	want := &user.User{Uid: uid, Gid: uid, Username: name, Name: name, HomeDir: "/home/" + name}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("got %+v, want %+v", u, want)
	}
	if u, err := lookupID(uid); err != nil || u.HomeDir != want.HomeDir {
		t.Fatalf("lookupID: %+v, %v", u, err)
	}
}

// TestGetentNotFromPath checks that getent is the system's, never one $PATH finds first (the
// invoker of sudo may set it): a getent planted first on $PATH that answers another home is
// not run.
func TestGetentNotFromPath(t *testing.T) {
	if _, err := os.Stat("/usr/bin/getent"); err != nil {
		t.Skip("no /usr/bin/getent")
	}
	dir := t.TempDir()
	fake := "#!/bin/sh\necho 'root:x:0:0:root:/planted:/bin/sh'\n"
	if err := os.WriteFile(dir+"/getent", []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	u, err := getentUser("0")
	if err != nil {
		t.Fatal(err)
	}
	if u.HomeDir == "/planted" {
		t.Fatal("the getent on $PATH answered")
	}
}
