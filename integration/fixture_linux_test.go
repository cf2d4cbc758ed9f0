package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// testUserName is the unprivileged account the tests create to run agentrun rootless.
const testUserName = "agentrun-test"

// runner runs agentrun as root or as the unprivileged test user, with a fixture home
// directory holding secrets and a git workspace.
type runner struct {
	name      string
	uid, gid  int // the user agentrun runs as
	home, ws  string
	tmp       string   // the agent's $TMPDIR: beside the home, as on a real machine, not around it
	profile   string   // a test profile file: base and git, plus limits
	unprivate bool     // runs as the unprivileged test user
	jail      bool     // runs where user namespaces are forbidden (see maybeDenyUserNSJail)
	netns     string   // runs agentrun in this network namespace (the fake internet's client)
	resolv    string   // with netns: the resolv.conf agentrun sees there
	env       []string // more variables in agentrun's environment
	bin       string   // the agentrun binary it runs; "" for agentrunBin
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sandbox tests need root: they create a test user and cgroups (run them with sudo, as scripts/test.sh does)")
	}
}

// createdTestUser is set when the tests created the test account, which TestMain then removes.
var createdTestUser bool

// testUser creates the unprivileged test account once.
func testUser(t testing.TB) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup(testUserName)
	if err != nil {
		createdTestUser = true
		out, err := exec.Command("useradd", "--system", "--create-home", "--shell", "/bin/sh", testUserName).CombinedOutput()
		if err != nil {
			t.Fatalf("creating the test user: %v: %s", err, out)
		}
		if u, err = user.Lookup(testUserName); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// removeFixture removes a fixture's directory, trying again for a while when something still
// finishing (a FUSE daemon after its unmount, a sandbox's last process) adds to it meanwhile,
// and fails the test if it cannot: a fixture left behind is a leak.
func removeFixture(t testing.TB, dir string) {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("removing the fixture %s: %v", dir, err)
}

// asRootAndUser runs f in a subtest "root", then "user", each with a fixture of its own:
// agentrun run as root, and as the unprivileged test user.
func asRootAndUser(t *testing.T, f func(t *testing.T, r *runner)) {
	for _, unprivileged := range []bool{false, true} {
		name := "root"
		if unprivileged {
			name = "user"
		}
		t.Run(name, func(t *testing.T) { f(t, newRunner(t, unprivileged)) })
	}
}

// newRunner makes the fixture: a home with SSH keys, cloud credentials and shell rc files,
// and a workspace that is a git repository with one commit.
func newRunner(t testing.TB, unprivileged bool) *runner {
	t.Helper()
	requireRoot(t)
	r := &runner{name: "root"}
	if unprivileged {
		r.name, r.unprivate = testUserName, true
		r.uid, r.gid = testUser(t)
	}
	// Not under /tmp: like a real home, the fixture must not sit inside the agent's writable
	// /tmp (the Landlock + seccomp tier has no private one).
	base, err := os.MkdirTemp("/var/tmp", "agentrun-fixture-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeFixture(t, base) })
	r.home = filepath.Join(base, "home")
	r.tmp = filepath.Join(base, "tmp")
	if err := os.MkdirAll(r.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(r.tmp, 0o1777|os.ModeSticky); err != nil { // as /tmp: the umask took the bits away
		t.Fatal(err)
	}
	r.ws = filepath.Join(r.home, "project")
	files := map[string]string{
		".ssh/id_ed25519":            "-----BEGIN OPENSSH PRIVATE KEY----- secret\n",
		".ssh/id_ed25519.pub":        "ssh-ed25519 AAAA public\n",
		".aws/credentials":           "[default]\naws_secret_access_key = secret\n",
		".bashrc":                    "# rc\n",
		".config/systemd/user/.keep": "",
		"notes.txt":                  "readable notes\n",
		"project/README.md":          "hello\n",
		"project/.env":               "TOKEN=secret\n",
		"profile.yaml":               testProfile,
		"limits.yaml":                limitsProfile,
	}
	for name, content := range files {
		p := filepath.Join(r.home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.profile = filepath.Join(r.home, "profile.yaml")
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "add", "README.md"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = r.ws
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if unprivileged {
		if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", r.uid, r.gid), r.home).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v: %s", err, out)
		}
	}
	return r
}

// testProfile reads the whole home, as a user's own profile may: the fixture's secrets are then
// visible but for the deny rules, which must still hide them (deny wins over a broader read).
// The built-in profiles name what they read in the home (homebyname_linux_test.go).
const testProfile = `name: test
extends: [base, git]
filesystem:
  read: ["~"]
`

const limitsProfile = `name: limits
extends: [base]
resources: {memory: 64MiB, pids: 64}
`

// result is what one agentrun run did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// run runs agentrun with args in the workspace, as the runner's user, with the fixture home.
func (r *runner) run(t testing.TB, args ...string) result {
	t.Helper()
	return r.runFiles(t, nil, nil, args...)
}

// runFiles is run with stdin (when not nil) as agentrun's standard input and extra as its
// descriptors from 3 on.
func (r *runner) runFiles(t testing.TB, stdin *os.File, extra []*os.File, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := r.command(ctx, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.ExtraFiles = extra
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running agentrun: %v", err)
	}
	return res
}

// command prepares agentrun with args, as the runner's user.
func (r *runner) command(ctx context.Context, args ...string) *exec.Cmd {
	bin := agentrunBin
	if r.bin != "" {
		bin = r.bin
	}
	argv := r.wrap(append([]string{bin}, args...))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = r.ws
	cmd.Env = []string{
		"HOME=" + r.home,
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
		"USER=" + r.name,
		"XDG_CONFIG_HOME=" + filepath.Join(r.home, ".config"),
		"TMPDIR=" + r.tmp,
	}
	cmd.Env = append(cmd.Env, r.env...)
	if r.jail {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d:%d", denyUserNSEnv, r.uid, r.gid))
	}
	return cmd
}

// wrap puts argv in the runner's situation: as its user or in its jail, in its network
// namespace.
func (r *runner) wrap(argv []string) []string {
	switch {
	case r.jail:
		argv = append([]string{os.Args[0]}, argv...)
	case r.unprivate:
		argv = append([]string{"setpriv", "--reuid", strconv.Itoa(r.uid), "--regid", strconv.Itoa(r.gid), "--init-groups", "--"}, argv...)
	}
	if r.netns != "" {
		// Not ip netns exec: it remounts /sys without the cgroup hierarchies. Join the
		// network namespace, and in a private mount namespace put its resolv.conf in place.
		argv = append([]string{"nsenter", "--net=/var/run/netns/" + r.netns, "unshare", "--mount", "--propagation", "private",
			"sh", "-c", `mount --bind "$0" /etc/resolv.conf && exec "$@"`, r.resolv}, argv...)
	}
	return argv
}

// sh runs a shell script in the sandbox under the test profile.
func (r *runner) sh(t testing.TB, script string, extra ...string) result {
	t.Helper()
	args := append([]string{"--profile", r.profile, "--network", "none"}, extra...)
	return r.run(t, append(args, "--", "sh", "-c", script)...)
}

// writeOwned writes a file in the fixture, with its parents, owned by the runner's user.
func writeOwned(t *testing.T, r *runner, path, content string) {
	t.Helper()
	mkdirOwned(t, r, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	chownToRunner(t, r, path)
}

// mkdirOwned makes a directory and its missing parents, owned by the runner's user.
func mkdirOwned(t *testing.T, r *runner, dir string) {
	t.Helper()
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range missing {
		chownToRunner(t, r, d)
	}
}

// denials are the options an enforce-mode run needs for its file denials to be recorded: none
// as root, where the kernel's refusals are read (the denial records layer); --trace rootless,
// where they cannot be and the seccomp notifications report every access instead.
func (r *runner) denials() []string {
	if r.unprivate {
		return []string{"--trace"}
	}
	return nil
}

// modeArgs are the options of a run in mode whose file denials the test looks up (see denials).
func (r *runner) modeArgs(mode string) []string {
	if mode == "enforce" {
		return append(r.denials(), "--mode", mode)
	}
	return []string{"--mode", mode}
}
