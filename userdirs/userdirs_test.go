package userdirs

import (
	"errors"
	"os/user"
	"reflect"
	"testing"
)

// fakeProcess is a process with the given ids and environment, whose user database knows
// alice (uid 1000, gid 1000, in groups 1000 and 27) and bob, whose primary group is not a
// number.
func fakeProcess(uid, euid int, home string, env map[string]string) process {
	users := map[string]*user.User{
		"1000": {Uid: "1000", Gid: "1000", Username: "alice", HomeDir: "/home/alice"},
		"1001": {Uid: "1001", Gid: "staff", Username: "bob", HomeDir: "/home/bob"},
	}
	return process{
		uid: uid, gid: uid, euid: euid, groups: []int{uid},
		getenv: func(name string) string { return env[name] },
		lookupID: func(id string) (*user.User, error) {
			if u, ok := users[id]; ok {
				return u, nil
			}
			return nil, user.UnknownUserIdError(0)
		},
		groupIDs: func(u *user.User) ([]string, error) {
			if u.Username == "alice" {
				return []string{"1000", "27", "x"}, nil
			}
			return nil, errors.New("no groups")
		},
		homeDir: func() (string, error) {
			if home == "" {
				return "", errors.New("$HOME is not defined")
			}
			return home, nil
		},
	}
}

func TestInvoker(t *testing.T) {
	root := Invoker{UID: 0, GID: 0, Groups: []int{0}}
	alice := Invoker{UID: 1000, GID: 1000, Groups: []int{1000, 27}, Name: "alice", Home: "/home/alice", Sudo: true}
	tests := []struct {
		name      string
		uid, euid int
		sudoUID   string
		want      Invoker
	}{
		{name: "user", uid: 1000, euid: 1000, want: Invoker{UID: 1000, GID: 1000, Groups: []int{1000}}},
		{name: "user with SUDO_UID set is still itself", uid: 1002, euid: 1002, sudoUID: "1000", want: Invoker{UID: 1002, GID: 1002, Groups: []int{1002}}},
		{name: "root without sudo", want: root},
		{name: "sudo", sudoUID: "1000", want: alice},
		{name: "setuid root under sudo", uid: 1000, euid: 0, sudoUID: "1000", want: alice},
		{name: "sudo from root", sudoUID: "0", want: root},
		{name: "SUDO_UID not a number", sudoUID: "alice", want: root},
		{name: "SUDO_UID of no user", sudoUID: "4242", want: root},
		{name: "primary group not a number", sudoUID: "1001", want: root},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := invoker(fakeProcess(tc.uid, tc.euid, "/root", map[string]string{"SUDO_UID": tc.sudoUID}))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("invoker = %+v, want %+v", got, tc.want)
			}
			if got.SudoHome() != tc.want.Home || (got.Sudo && got.SudoHome() == "") {
				t.Errorf("SudoHome = %q, want %q", got.SudoHome(), tc.want.Home)
			}
		})
	}
}

func TestDirs(t *testing.T) {
	xdg := map[string]string{
		"XDG_CONFIG_HOME": "/x/config",
		"XDG_DATA_HOME":   "/x/data",
		"XDG_STATE_HOME":  "/x/state/",
		"XDG_CACHE_HOME":  "/x/cache",
		"XDG_RUNTIME_DIR": "/run/user/1000",
	}
	relative := map[string]string{
		"XDG_CONFIG_HOME": "config",
		"XDG_DATA_HOME":   "./data",
		"XDG_STATE_HOME":  "state",
		"XDG_CACHE_HOME":  "~/.cache",
		"XDG_RUNTIME_DIR": "run",
	}
	defaults := func(home string) Dirs {
		return Dirs{Home: home, ConfigHome: home + "/.config", DataHome: home + "/.local/share", StateHome: home + "/.local/state", CacheHome: home + "/.cache"}
	}
	tests := []struct {
		name      string
		uid, euid int
		home      string // $HOME, as os.UserHomeDir reads it
		env       map[string]string
		want      Dirs
		store     string // StoreDir; "" for ErrNoHome
	}{
		{name: "XDG unset", uid: 1000, euid: 1000, home: "/home/u", want: defaults("/home/u"), store: "/home/u/.local/state/agentrun"},
		{name: "XDG set", uid: 1000, euid: 1000, home: "/home/u", env: xdg,
			want:  Dirs{Home: "/home/u", ConfigHome: "/x/config", DataHome: "/x/data", StateHome: "/x/state", CacheHome: "/x/cache", RuntimeDir: "/run/user/1000"},
			store: "/x/state/agentrun"},
		{name: "relative XDG ignored", uid: 1000, euid: 1000, home: "/home/u", env: relative, want: defaults("/home/u"), store: "/home/u/.local/state/agentrun"},
		{name: "root without sudo", home: "/root", env: xdg,
			want:  Dirs{Home: "/root", ConfigHome: "/x/config", DataHome: "/x/data", StateHome: "/x/state", CacheHome: "/x/cache", RuntimeDir: "/run/user/1000"},
			store: "/x/state/agentrun"},
		{name: "sudo: the invoker's home, root's XDG ignored", home: "/root", env: map[string]string{"SUDO_UID": "1000", "XDG_STATE_HOME": "/root/.local/state", "XDG_RUNTIME_DIR": "/run/user/0"},
			want: defaults("/home/alice"), store: "/home/alice/.local/state/agentrun"},
		{name: "sudo from root", home: "/root", env: map[string]string{"SUDO_UID": "0"}, want: defaults("/root"), store: "/root/.local/state/agentrun"},
		{name: "no home", uid: 1000, euid: 1000, want: Dirs{}},
		{name: "relative home", uid: 1000, euid: 1000, home: "home/u", want: Dirs{}},
		{name: "no home, XDG set", uid: 1000, euid: 1000, env: xdg,
			want:  Dirs{ConfigHome: "/x/config", DataHome: "/x/data", StateHome: "/x/state", CacheHome: "/x/cache", RuntimeDir: "/run/user/1000"},
			store: "/x/state/agentrun"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fakeProcess(tc.uid, tc.euid, tc.home, tc.env)
			got := dirs(invoker(p), p)
			if got != tc.want {
				t.Errorf("dirs =\n %+v, want\n %+v", got, tc.want)
			}
			store, err := got.StoreDir()
			switch {
			case tc.store == "" && !errors.Is(err, ErrNoHome):
				t.Errorf("StoreDir = %q, %v; want ErrNoHome", store, err)
			case tc.store != "" && (err != nil || store != tc.store):
				t.Errorf("StoreDir = %q, %v; want %q", store, err, tc.store)
			}
			wantProfiles := ""
			if tc.want.ConfigHome != "" {
				wantProfiles = tc.want.ConfigHome + "/agentrun/profiles"
			}
			if got := got.ProfilesDir(); got != wantProfiles {
				t.Errorf("ProfilesDir = %q, want %q", got, wantProfiles)
			}
		})
	}
}

func TestRuntime(t *testing.T) {
	tests := []struct {
		name      string
		uid, euid int
		home      string
		env       map[string]string
		login     bool // /run/user/UID is the user's own and private
		want      Runtime
		own       string
	}{
		{name: "root", home: "/root", env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, want: Runtime{Dir: "/run/agentrun", Kind: RuntimeSystem}, own: "/run/agentrun"},
		{name: "root under sudo", home: "/root", env: map[string]string{"SUDO_UID": "1000"}, want: Runtime{Dir: "/run/agentrun", Kind: RuntimeSystem}, own: "/run/agentrun"},
		{name: "XDG_RUNTIME_DIR", uid: 1000, euid: 1000, home: "/home/u", env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, login: true,
			want: Runtime{Dir: "/run/user/1000/agentrun", Base: "/run/user/1000", Kind: RuntimeXDG}, own: "/run/user/1000/agentrun"},
		{name: "relative XDG_RUNTIME_DIR ignored", uid: 1000, euid: 1000, home: "/home/u", env: map[string]string{"XDG_RUNTIME_DIR": "rt"}, login: true,
			want: Runtime{Dir: "/run/user/1000/agentrun", Base: "/run/user/1000", Kind: RuntimeLogin}, own: "/run/user/1000/agentrun"},
		{name: "login dir not private: the cache", uid: 1000, euid: 1000, home: "/home/u",
			want: Runtime{Dir: "/home/u/.cache/agentrun/run", Base: "/home/u/.cache", Kind: RuntimeCache}, own: "/home/u/.cache/agentrun"},
		{name: "XDG_CACHE_HOME", uid: 1000, euid: 1000, home: "/home/u", env: map[string]string{"XDG_CACHE_HOME": "/c"},
			want: Runtime{Dir: "/c/agentrun/run", Base: "/c", Kind: RuntimeCache}, own: "/c/agentrun"},
		{name: "no home", uid: 1000, euid: 1000, want: Runtime{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked := ""
			private := func(dir string) bool { asked = dir; return tc.login }
			got := runtimeDir(fakeProcess(tc.uid, tc.euid, tc.home, tc.env), private)
			if got != tc.want || got.Own() != tc.own {
				t.Errorf("runtime = %+v (own %q), want %+v (own %q)", got, got.Own(), tc.want, tc.own)
			}
			if asked != "" && asked != "/run/user/1000" {
				t.Errorf("asked whether %s is private, want /run/user/1000", asked)
			}
		})
	}
}
