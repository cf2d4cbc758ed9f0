package integration

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// diffProfile is the differential test's profile: base and git (the workspace writable, .git's
// hooks and config protected, secrets denied), and in the home only what it names.
const diffProfile = `name: difftest
extends: [base, git]
filesystem:
  read: ["~/notes.txt", "~/victims"]
`

// diffScript runs the steps its arguments name, each "name|op|path[|path2]", one after the
// other, and prints a line a step: its name and "ok", or the errno's name. Isolated (-I), so
// that Python looks nowhere in the home on its own.
const diffScript = `
import ctypes, errno, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
def step(op, a):
    if op == "read":
        fd = os.open(a[0], os.O_RDONLY); os.read(fd, 1); os.close(fd)
    elif op == "create":
        os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT, 0o644))
    elif op == "creat": # the system call itself (amd64's 85): glibc's creat() is an openat
        if libc.syscall(85, a[0].encode(), 0o644) < 0:
            e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
    elif op == "excl":
        os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    elif op == "append":
        os.close(os.open(a[0], os.O_WRONLY | os.O_APPEND))
    elif op == "mkdir":
        os.mkdir(a[0])
    elif op == "rename":
        os.rename(a[0], a[1])
    elif op == "unlink":
        os.unlink(a[0])
    elif op == "chmod":
        os.chmod(a[0], 0o600)
    elif op == "symlink":
        os.symlink(a[0], a[1])
    elif op == "link":
        os.link(a[0], a[1])
    elif op == "truncate":
        os.truncate(a[0], 0)
    elif op == "exec":
        subprocess.run([a[0]], check=True)
    else:
        raise SystemExit("unknown op " + op)
for arg in sys.argv[1:]:
    name, op, *paths = arg.split("|")
    try:
        step(op, paths)
        print(name, "ok", flush=True)
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, str(e.errno)), flush=True)
    except subprocess.CalledProcessError as e:
        print(name, "exit" + str(e.returncode), flush=True)
`

// diffStep is one step of the corpus: what the script does, the events enforce mode's refusal
// of it is recorded as (none where the policy allows it), and the errno the host itself
// answers where the step fails whatever the policy (EEXIST, ENOENT of a missing file in an
// allowed place).
type diffStep struct {
	name   string
	op     string
	paths  []string
	events []string // "kind op path" keys (eventKey)
	host   string   // the host's own errno, or ""
}

func (s diffStep) arg() string { return strings.Join(append([]string{s.name, s.op}, s.paths...), "|") }

// diffCorpus is the corpus for r's fixture; tag makes the names it creates in /etc and /usr
// this fixture's own.
func diffCorpus(r *runner, tag string) []diffStep {
	h, w := r.home, filepath.Join(r.ws, "scratch")
	v := filepath.Join(h, "victims")
	etcDir, usrFile := "/etc/"+tag, "/usr/"+tag
	f := func(op, path string) string { return "file " + op + " " + path }
	steps := []diffStep{
		// Reads.
		{name: "read-aws", op: "read", paths: []string{h + "/.aws/credentials"}, events: []string{f("read", h+"/.aws/credentials")}},
		{name: "read-sshkey", op: "read", paths: []string{h + "/.ssh/id_ed25519"}, events: []string{f("read", h+"/.ssh/id_ed25519")}},
		{name: "read-allowed-home", op: "read", paths: []string{h + "/notes.txt"}},
		{name: "read-allowed-etc", op: "read", paths: []string{"/etc/passwd"}},
		{name: "read-allowed-ws", op: "read", paths: []string{r.ws + "/README.md"}},
		{name: "read-unnamed", op: "read", paths: []string{h + "/unnamed.txt"}, events: []string{f("read", h+"/unnamed.txt")}},
		{name: "read-missing-ws", op: "read", paths: []string{w + "/missing.txt"}, host: "ENOENT"},
		{name: "read-missing-home", op: "read", paths: []string{v + "/missing.txt"}, host: "ENOENT"},
		{name: "read-missing-etc", op: "read", paths: []string{"/etc/" + tag + "-missing"}, host: "ENOENT"},
		{name: "read-symlink-secret", op: "read", paths: []string{w + "/aws-link"}, events: []string{f("read", h+"/.aws/config")}},
		// Outside the write roots.
		{name: "mkdir-existing-etc", op: "mkdir", paths: []string{"/etc"}, host: "EEXIST"},
		{name: "mkdir-existing-home", op: "mkdir", paths: []string{h}, host: "EEXIST"},
		{name: "mkdir-existing-victims", op: "mkdir", paths: []string{v}, host: "EEXIST"},
		{name: "excl-existing-etc", op: "excl", paths: []string{"/etc/passwd"}, host: "EEXIST"},
		{name: "excl-existing-home", op: "excl", paths: []string{h + "/notes.txt"}, host: "EEXIST"},
		// Existing on the host, but not in enforce mode's view: the policy hides them.
		{name: "excl-secret", op: "excl", paths: []string{h + "/.aws/credentials"}, events: []string{f("create", h+"/.aws/credentials")}},
		{name: "excl-unnamed", op: "excl", paths: []string{h + "/unnamed.txt"}, events: []string{f("create", h+"/unnamed.txt")}},
		{name: "mkdir-secret-dir", op: "mkdir", paths: []string{h + "/.aws"}, events: []string{f("mkdir", h+"/.aws")}},
		{name: "mkdir-unnamed-dir", op: "mkdir", paths: []string{h + "/unnamed"}, events: []string{f("mkdir", h+"/unnamed")}},
		{name: "read-env-ws", op: "read", paths: []string{r.ws + "/.env"}, events: []string{f("read", r.ws+"/.env")}},
		// A denied path in a write root is a stand-in in enforce mode's view: it exists.
		{name: "excl-env-ws", op: "excl", paths: []string{r.ws + "/.env"}, host: "EEXIST"},
		{name: "mkdir-etc", op: "mkdir", paths: []string{etcDir}, events: []string{f("mkdir", etcDir)}},
		{name: "create-usr", op: "create", paths: []string{usrFile}, events: []string{f("create", usrFile)}},
		{name: "creat-home", op: "creat", paths: []string{h + "/creat.txt"}, events: []string{f("create", h+"/creat.txt")}},
		{name: "mkdir-home", op: "mkdir", paths: []string{h + "/newdir"}, events: []string{f("mkdir", h+"/newdir")}},
		{name: "create-home", op: "create", paths: []string{h + "/new.txt"}, events: []string{f("create", h+"/new.txt")}},
		{name: "rename-home", op: "rename", paths: []string{v + "/rename.txt", v + "/renamed.txt"}, events: []string{f("rename", v+"/rename.txt"), f("rename", v+"/renamed.txt")}},
		{name: "unlink-home", op: "unlink", paths: []string{v + "/unlink.txt"}, events: []string{f("delete", v+"/unlink.txt")}},
		{name: "chmod-home", op: "chmod", paths: []string{v + "/chmod.txt"}, events: []string{f("write", v+"/chmod.txt")}},
		{name: "symlink-home", op: "symlink", paths: []string{"notes.txt", v + "/sym"}, events: []string{f("create", v+"/sym")}},
		{name: "link-home", op: "link", paths: []string{v + "/link.txt", v + "/hard"}, events: []string{f("link", v+"/hard")}},
		{name: "truncate-home", op: "truncate", paths: []string{v + "/trunc.txt"}, events: []string{f("write", v+"/trunc.txt")}},
		// Inside the workspace.
		{name: "creat-ws", op: "creat", paths: []string{w + "/creat.txt"}},
		{name: "mkdir-ws", op: "mkdir", paths: []string{w + "/newdir"}},
		{name: "create-ws", op: "create", paths: []string{w + "/new.txt"}},
		{name: "rename-ws", op: "rename", paths: []string{w + "/rename.txt", w + "/renamed.txt"}},
		{name: "unlink-ws", op: "unlink", paths: []string{w + "/unlink.txt"}},
		{name: "chmod-ws", op: "chmod", paths: []string{w + "/chmod.txt"}},
		{name: "symlink-ws", op: "symlink", paths: []string{"new.txt", w + "/sym"}},
		{name: "link-ws", op: "link", paths: []string{w + "/link.txt", w + "/hard"}},
		{name: "truncate-ws", op: "truncate", paths: []string{w + "/trunc.txt"}},
		{name: "mkdir-existing-ws", op: "mkdir", paths: []string{w}, host: "EEXIST"},
		{name: "excl-existing-ws", op: "excl", paths: []string{w + "/trunc.txt"}, host: "EEXIST"},
		// Protected paths in the workspace.
		{name: "create-git-hook", op: "create", paths: []string{r.ws + "/.git/hooks/x"}, events: []string{f("create", r.ws+"/.git/hooks/x")}},
		{name: "write-git-config", op: "append", paths: []string{r.ws + "/.git/config"}, events: []string{f("write", r.ws+"/.git/config")}},
		// Execs: $TMPDIR is writable, but exec.allow does not cover it.
		{name: "exec-allowed", op: "exec", paths: []string{"/bin/true"}},
		{name: "exec-tmpdir", op: "exec", paths: []string{r.tmp + "/prog"}, events: []string{"exec exec " + r.tmp + "/prog"}},
	}
	if runtime.GOARCH != "amd64" { // the creat system call is amd64's (and the script's number)
		steps = slices.DeleteFunc(steps, func(s diffStep) bool { return s.op == "creat" })
	}
	return steps
}

// prepareCorpus puts the files the corpus works on in place, as they were before any run:
// what a run created, renamed or removed is put back, owned by the runner's user.
func prepareCorpus(t *testing.T, r *runner, tag string) {
	t.Helper()
	for _, p := range []string{"/etc/" + tag, "/usr/" + tag, filepath.Join(r.home, "victims"), filepath.Join(r.ws, "scratch"),
		filepath.Join(r.home, "newdir"), filepath.Join(r.home, "new.txt"), filepath.Join(r.home, "creat.txt"), filepath.Join(r.ws, ".git/hooks/x"), filepath.Join(r.tmp, "prog")} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"unnamed.txt": "unnamed\n", "unnamed/x": "x\n", ".aws/config": "[default]\nregion = x\n"}
	for _, n := range []string{"rename", "unlink", "chmod", "link", "trunc"} {
		files["victims/"+n+".txt"] = n + "\n"
		files["project/scratch/"+n+".txt"] = n + "\n"
	}
	for name, content := range files {
		writeOwned(t, r, filepath.Join(r.home, name), content)
	}
	link := filepath.Join(r.ws, "scratch/aws-link")
	if err := os.Symlink(filepath.Join(r.home, ".aws/config"), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, r.uid, r.gid); err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	writeOwned(t, r, filepath.Join(r.tmp, "prog"), string(prog))
	if err := os.Chmod(filepath.Join(r.tmp, "prog"), 0o755); err != nil {
		t.Fatal(err)
	}
}
