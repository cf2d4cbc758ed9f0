package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Post-run: what the agent leaves behind must not run a program when the user next uses git
// or starts the agent unconfined, and agentrun's own clean-up must not become a confused
// deputy that moves host files for the agent.

// postrunProfile protects Claude-like settings and reviews the files an agent writes in
// normal use.
const postrunProfile = `name: postrun
extends: [base, git]
filesystem:
  protect: [$WORKSPACE/.claude/settings.json]
  review: [$WORKSPACE/.claude/settings.local.json, ~/.claude.json]
`

// postrunSetup writes the profile, a host directory the agent must not get agentrun to
// touch, the reviewed files, and (noGit) removes the workspace's repository.
func postrunSetup(noGit bool) func(t *testing.T, r *runner) {
	return func(t *testing.T, r *runner) {
		t.Helper()
		victim := filepath.Join(filepath.Dir(r.home), "victim")
		for name, content := range map[string]string{
			filepath.Join(r.home, "postrun.yaml"):              postrunProfile,
			filepath.Join(victim, "config"):                    "[core]\n\tbare = false\n",
			filepath.Join(victim, "settings.json"):             `{"victim":true}`,
			filepath.Join(r.home, ".claude.json"):              `{"numStartups":1,"mcpServers":{}}`,
			filepath.Join(r.ws, ".claude/settings.local.json"): `{"permissions":{"allow":[]}}`,
		} {
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if r.unprivate && !strings.HasPrefix(name, victim) {
				os.Chown(name, r.uid, r.gid)
				os.Chown(filepath.Dir(name), r.uid, r.gid)
			}
		}
		if noGit {
			if err := os.RemoveAll(filepath.Join(r.ws, ".git")); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// plantHook is a shell command that makes path an executable git hook that creates the marker.
func plantHook(path string) string {
	return `printf '#!/bin/sh\ntouch "$HOME/planted-ran"\n' > ` + path + ` && chmod +x ` + path
}

// commitRanNothing is an after check: a commit on the host in dir runs nothing the agent
// planted.
func commitRanNothing(dir string) func(t *testing.T, r *runner, res result) error {
	return plantedDidNotRun(dir, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "x")
}

// nestedRepoSetup is postrunSetup with a repository of the user's in the workspace's sub,
// made before the run.
func nestedRepoSetup(t *testing.T, r *runner) {
	t.Helper()
	postrunSetup(false)(t, r)
	dir := filepath.Join(r.ws, "sub")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if r.unprivate {
		os.Chown(dir, r.uid, r.gid)
	}
	hostGit(r, "sub", "init", "-q")
	if _, err := os.Stat(filepath.Join(dir, ".git/hooks")); err != nil {
		t.Fatalf("git init made no hooks directory: %v", err)
	}
}

// preparedHooksSetup is nestedRepoSetup with tools/pre-commit, a hook that creates the marker,
// made before the run: what an earlier run could leave where no repository names it, for a
// later one to move into place. Its times are older than the run's start.
func preparedHooksSetup(t *testing.T, r *runner) {
	t.Helper()
	nestedRepoSetup(t, r)
	dir := filepath.Join(r.ws, "tools")
	hook := filepath.Join(dir, "pre-commit")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hook, []byte("#!/bin/sh\ntouch \"$HOME/planted-ran\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r.unprivate {
		os.Chown(dir, r.uid, r.gid)
		os.Chown(hook, r.uid, r.gid)
	}
	// Past the coarse clock's tick, which a change's time and the run's start are read from.
	time.Sleep(50 * time.Millisecond)
}

// oldPointerSetup is nestedRepoSetup with w/.git, a "gitdir:" file that leads into the objects
// of the user's repository in sub, made before the run: what an earlier run could leave for a
// later one to complete.
func oldPointerSetup(t *testing.T, r *runner) {
	t.Helper()
	nestedRepoSetup(t, r)
	dir := filepath.Join(r.ws, "w")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git"), []byte("gitdir: ../sub/.git/objects/gd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r.unprivate {
		os.Chown(dir, r.uid, r.gid)
		os.Chown(filepath.Join(dir, ".git"), r.uid, r.gid)
	}
	time.Sleep(50 * time.Millisecond) // past the coarse clock's tick, as preparedHooksSetup
}

// withFiles is setup followed by files written before the run, older than it and the user's:
// paths beneath the workspace, or the home with a leading "~/"; a content "-> TARGET" makes a
// symbolic link. A git config may be a link, and may include other files, which git follows.
func withFiles(setup func(*testing.T, *runner), files map[string]string) func(*testing.T, *runner) {
	return func(t *testing.T, r *runner) {
		t.Helper()
		setup(t, r)
		for name, content := range files {
			p := filepath.Join(r.ws, name)
			if rest, ok := strings.CutPrefix(name, "~/"); ok {
				p = filepath.Join(r.home, rest)
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			os.Remove(p)
			var err error
			if target, ok := strings.CutPrefix(content, "-> "); ok {
				err = os.Symlink(target, p)
			} else {
				err = os.WriteFile(p, []byte(content), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.unprivate {
				os.Lchown(p, r.uid, r.gid)
				os.Chown(filepath.Dir(p), r.uid, r.gid)
			}
		}
		time.Sleep(50 * time.Millisecond) // past the coarse clock's tick, as preparedHooksSetup
	}
}

// earlierRun is setup followed by a real earlier run of agentrun that runs script under the
// post-run profile: what an agent prepares in one run, where no check takes it for anything,
// for a later run (the attack) to move into place.
func earlierRun(setup func(*testing.T, *runner), script string) func(*testing.T, *runner) {
	return func(t *testing.T, r *runner) {
		t.Helper()
		setup(t, r)
		args := []string{"--profile", filepath.Join(r.home, "postrun.yaml"), "--network", "none"}
		if r.jail {
			args = append(args, "--allow-degraded", "--allow-unprotected") // as runEscape's attack
		}
		if res := r.run(t, append(args, "--", "sh", "-c", script)...); res.code != 0 {
			t.Fatalf("the earlier run failed: %s", res)
		}
		time.Sleep(50 * time.Millisecond) // past the coarse clock's tick, as preparedHooksSetup
	}
}

func victimDir(r *runner) string { return filepath.Join(filepath.Dir(r.home), "victim") }

// victimUntouched checks the host directory the agent pointed links at.
func victimUntouched(r *runner) error {
	ents, err := os.ReadDir(victimDir(r))
	if err != nil {
		return err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "config settings.json" {
		return fmt.Errorf("agentrun changed the host directory the agent linked to: it now holds %q", names)
	}
	return nil
}

// hostGit runs git as the runner's user on the host, as the user would after the run, and
// returns its output.
func hostGit(r *runner, dir string, args ...string) string {
	argv := append([]string{"git", "-c", "safe.directory=*", "-C", filepath.Join(r.ws, dir)}, args...)
	if r.unprivate {
		argv = append([]string{"setpriv", "--reuid", strconv.Itoa(r.uid), "--regid", strconv.Itoa(r.gid), "--init-groups", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"HOME=" + r.home, "PATH=/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1"}
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// marker is a host path the agent cannot write: a planted command that runs on the host
// creates it.
func marker(r *runner) string { return filepath.Join(r.home, "planted-ran") }

// plantedDidNotRun runs git on the host and checks the planted command did not run.
func plantedDidNotRun(dir string, args ...string) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		out := hostGit(r, dir, args...)
		if _, err := os.Stat(marker(r)); err == nil {
			os.Remove(marker(r))
			return fmt.Errorf("git %s on the host ran the agent's command (git said: %s); agentrun said: %s", strings.Join(args, " "), out, res.stderr)
		}
		return nil
	}
}

// reported is a held check: the attack itself succeeds in the sandbox (writing is allowed);
// agentrun must say what it did about it.
func reported(what string) func(r *runner, res result) error {
	return func(r *runner, res result) error {
		if !strings.Contains(res.stderr, what) {
			return fmt.Errorf("want agentrun to say %q: %s", what, res)
		}
		return nil
	}
}

// afterDecides is a held check for attacks whose writes succeed in the sandbox and whose
// effect only the after check can judge.
func afterDecides(r *runner, res result) error { return nil }

// both runs two after checks.
func both(a, b func(t *testing.T, r *runner, res result) error) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		if err := a(t, r, res); err != nil {
			return err
		}
		return b(t, r, res)
	}
}

// fileHas checks a workspace or home file's content after the run.
func fileHas(path func(r *runner) string, want, notWant string) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		b, err := os.ReadFile(path(r))
		if err != nil {
			return err
		}
		if !bytes.Contains(b, []byte(want)) || notWant != "" && bytes.Contains(b, []byte(notWant)) {
			return fmt.Errorf("%s holds %q: want %q and not %q; agentrun said: %s", path(r), b, want, notWant, res.stderr)
		}
		return nil
	}
}

func inWS(rel string) func(r *runner) string {
	return func(r *runner) string { return filepath.Join(r.ws, rel) }
}

func init() {
	const mk = `"touch $HOME/planted-ran"`
	// userConfig is what git init writes for a repository's config.
	const userConfig = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefs = true\n"
	ordinaryRepo := `git init -q ord && git -C ord config user.name someone && git -C ord remote add origin https://example.com/x.git && echo ok`
	// lockedHooks plants a hook in a repository of the user's and then takes its hooks
	// directory's permissions (chmod mode), so that agentrun can neither list it nor move the
	// hook aside.
	lockedHooks := func(how, mode string) escapeAttempt {
		return escapeAttempt{
			class: "post-run", name: "hook in a hooks directory made " + how,
			profile: "postrun.yaml", setup: nestedRepoSetup,
			attack:  plantHook("sub/.git/hooks/pre-commit") + ` && chmod ` + mode + ` sub/.git/hooks`,
			held:    reported("git hook"),
			after:   commitRanNothing("sub"),
			control: ordinaryRepo, controlWant: "ok",
		}
	}
	// fsmonitorPlanted is an attempt whose attack leaves a core.fsmonitor that git status in
	// dir would run on the host: agentrun must say so, and the status run nothing.
	fsmonitorPlanted := func(name string, setup func(*testing.T, *runner), attack, dir string) escapeAttempt {
		return escapeAttempt{
			class: "post-run", name: name, profile: "postrun.yaml", setup: setup, attack: attack,
			held: reported("core.fsmonitor"), after: plantedDidNotRun(dir, "status"),
			control: ordinaryRepo, controlWant: "ok",
		}
	}
	ordinaryLeft := func(t *testing.T, r *runner, res result) error {
		b, err := os.ReadFile(filepath.Join(r.ws, "ord/.git/config"))
		if err != nil || !bytes.Contains(b, []byte("someone")) || !bytes.Contains(b, []byte("example.com")) {
			return fmt.Errorf("an ordinary repository the agent made was changed: %q %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(r.ws, "ord/.git/config.agentrun-quarantined")); err == nil {
			return fmt.Errorf("an ordinary repository's config was quarantined")
		}
		return nil
	}
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "post-run", name: "symlinked .claude makes agentrun move a host file",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `ln -s ` + "$HOME/../victim" + ` .claude.new && rm -rf .claude && mv .claude.new .claude`,
			held:    afterDecides,
			after:   func(t *testing.T, r *runner, res result) error { return victimUntouched(r) },
			control: `mkdir -p .claude && echo '{}' > .claude/notes.json && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "symlinked .git makes agentrun move a host config",
			profile: "postrun.yaml", setup: postrunSetup(true),
			attack:  `ln -s "$HOME/../victim" .git`,
			held:    afterDecides,
			after:   func(t *testing.T, r *runner, res result) error { return victimUntouched(r) },
			control: `ln -s README.md readme-link && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "git init with core.fsmonitor",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git init -q sub && git -C sub config core.fsmonitor ` + mk,
			held:    reported("core.fsmonitor"),
			after:   both(plantedDidNotRun("sub", "status"), ordinaryLeft),
			control: ordinaryRepo, controlWant: "ok",
		},
		// The search for agent-made repositories runs only when the file judge saw a write to
		// git's names: the ways around that watch must still be searched.
		// No write the agent makes decides whether the search runs: the paths the notifier
		// reads are the agent's memory, which another thread can change while the call waits,
		// and a rename or a link moves a tree of git's names under names that are not. The
		// user's own repositories inside the workspace (a directory of clones, a vendored
		// one) are not the workspace's .git, which the git fragment protects.
		escapeAttempt{
			class: "post-run", name: "hooks directory renamed into a repository the user had",
			profile: "postrun.yaml", setup: nestedRepoSetup,
			attack:  `mkdir sub/.git/hx && ` + plantHook("sub/.git/hx/pre-commit") + ` && mv sub/.git/hooks sub/.git/hooks.old && mv sub/.git/hx sub/.git/hooks`,
			held:    reported("git hook"),
			after:   commitRanNothing("sub"),
			control: ordinaryRepo, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "hooks of a repository the user had made a link to an agent-made directory",
			profile: "postrun.yaml", setup: nestedRepoSetup,
			attack:  `mkdir hk && ` + plantHook("hk/pre-commit") + ` && mv sub/.git/hooks sub/.git/old && ln -s ../../hk sub/.git/hooks`,
			held:    reported("symbolic link"),
			after:   commitRanNothing("sub"),
			control: ordinaryRepo, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "repository in a directory made execute-only",
			profile: "postrun.yaml", setup: postrunSetup(false),
			// git -C enters hid/r by name; a walk that lists directories cannot list hid.
			attack:  `mkdir hid && git init -q hid/r && git -C hid/r config core.fsmonitor ` + mk + ` && chmod 111 hid`,
			held:    reported("core.fsmonitor"),
			after:   plantedDidNotRun("hid/r", "status"),
			control: ordinaryRepo, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "older directory renamed onto a repository's hooks",
			profile: "postrun.yaml", setup: preparedHooksSetup,
			attack:  `mv sub/.git/hooks sub/.git/old && mv tools sub/.git/hooks`,
			held:    reported("git hook"),
			after:   commitRanNothing("sub"),
			control: ordinaryRepo, controlWant: "ok",
		},
		lockedHooks("execute-only", "111"),
		lockedHooks("read-only", "555"),
		escapeAttempt{
			class: "post-run", name: "repository built in the private /tmp and copied in",
			where:   asRoot | asUser, // the degraded tier's /tmp is the host's
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git init -q /tmp/r && git -C /tmp/r config core.fsmonitor ` + mk + ` && cp -a /tmp/r moved`,
			held:    reported("core.fsmonitor"),
			after:   plantedDidNotRun("moved", "status"),
			control: ordinaryRepo, controlWant: "ok",
		},
		fsmonitorPlanted("repository written through /proc/self/cwd", postrunSetup(false),
			`git init -q /proc/self/cwd/pc && git --git-dir=/proc/self/cwd/pc/.git config core.fsmonitor `+mk, "pc"),
		// A config of the user's that agentrun leaves alone may include a file the agent can
		// write (a project's shared .gitconfig, an optional local one), or be a link to one:
		// git follows both. The workspace's own .git/config is protected, not what it names.
		fsmonitorPlanted("shared .gitconfig the repository's config includes", withFiles(postrunSetup(false), map[string]string{".git/config": userConfig + "[include]\n\tpath = ../.gitconfig\n", ".gitconfig": "[alias]\n\tst = status\n"}),
			`printf '[core]\n\tfsmonitor = %s\n' `+mk+` >> .gitconfig`, "."),
		escapeAttempt{
			class: "post-run", name: "optional include the repository's config names, made",
			profile: "postrun.yaml", setup: withFiles(postrunSetup(false), map[string]string{".git/config": userConfig + "[includeIf \"gitdir:/\"]\n\tpath = ../.gitconfig.local\n"}),
			attack:  `printf '[core]\n\thooksPath = .h\n' > .gitconfig.local && mkdir .h && ` + plantHook(".h/pre-commit"),
			held:    reported("core.hookspath"),
			after:   commitRanNothing("."),
			control: ordinaryRepo, controlWant: "ok",
		},
		fsmonitorPlanted("file an included config includes in turn", withFiles(postrunSetup(false), map[string]string{".git/config": userConfig + "[include]\n\tpath = ../.gitconfig\n", ".gitconfig": "[include]\n\tpath = .config/git/extra\n"}),
			`mkdir -p .config/git && printf '[core]\n\tfsmonitor = %s\n' `+mk+` > .config/git/extra`, "."),
		escapeAttempt{
			class: "post-run", name: "included config replaced by a link to an older file",
			profile: "postrun.yaml", setup: withFiles(postrunSetup(false), map[string]string{".git/config": userConfig + "[include]\n\tpath = ../.gitconfig\n", ".gitconfig": "", "old/x.cfg": "[core]\n\tfsmonitor = \"touch $HOME/planted-ran\"\n"}),
			attack:  `ln -sf old/x.cfg .gitconfig`,
			held:    reported("symbolic link"),
			after:   plantedDidNotRun(".", "status"),
			control: ordinaryRepo, controlWant: "ok",
		},
		fsmonitorPlanted("repository config of the user's that is a link into the workspace", withFiles(nestedRepoSetup, map[string]string{"sub/.git/config": "-> ../repo.gitconfig", "sub/repo.gitconfig": userConfig}),
			`printf '[core]\n\tfsmonitor = %s\n' `+mk+` >> sub/repo.gitconfig`, "sub"),
		fsmonitorPlanted("workspace file the user's global git config includes through a link", withFiles(postrunSetup(false), map[string]string{"~/current": "-> project", "~/.gitconfig": "[user]\n\tname = u\n[include]\n\tpath = ~/current/team.gitconfig\n"}),
			`printf '[core]\n\tfsmonitor = %s\n' `+mk+` > team.gitconfig`, "."),
		fsmonitorPlanted("workspace file the user's global git config includes", withFiles(postrunSetup(false), map[string]string{"~/.gitconfig": "[user]\n\tname = u\n[includeIf \"gitdir:~/\"]\n\tpath = ~/project/team.gitconfig\n"}),
			`printf '[core]\n\tfsmonitor = %s\n' `+mk+` > team.gitconfig`, "."),
		// What one run prepares where no check looks, a later run completes: the times of
		// what it prepared are older than the later run, not older than every agent.
		fsmonitorPlanted("repository without a HEAD from an earlier run, completed", earlierRun(postrunSetup(false), `mkdir -p p/.git/refs p/.git/objects && git config --file p/.git/config core.fsmonitor `+mk),
			`echo 'ref: refs/heads/main' > p/.git/HEAD`, "p"),
		escapeAttempt{
			class: "post-run", name: "hook of a repository an earlier run left without its HEAD",
			profile: "postrun.yaml", setup: earlierRun(postrunSetup(false), `git init -q x && `+plantHook("x/.git/hooks/pre-commit")+` && mv x/.git/HEAD x/.git/HEAD.off`),
			attack:  `mv x/.git/HEAD.off x/.git/HEAD`,
			held:    reported("git hook"),
			after:   commitRanNothing("x"),
			control: ordinaryRepo, controlWant: "ok",
		},
		fsmonitorPlanted("included config from an earlier run, its directory renamed into place", earlierRun(withFiles(postrunSetup(false), map[string]string{".git/config": userConfig + "[include]\n\tpath = ../conf/team.cfg\n"}), `mkdir prep && printf '[core]\n\tfsmonitor = %s\n' `+mk+` > prep/team.cfg`),
			`mv prep conf`, "."),
		// Git takes a directory for a repository by asking access(2) and readlink(2), not
		// for types: the walk must find what git finds.
		fsmonitorPlanted("repository whose objects is a link", postrunSetup(false),
			`mkdir -p lk/.git/refs && echo 'ref: refs/heads/main' > lk/.git/HEAD && ln -s /usr lk/.git/objects && git --git-dir=lk/.git config core.fsmonitor `+mk, "lk"),
		escapeAttempt{
			class: "post-run", name: "repository whose HEAD is a link and objects an executable file",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `mkdir -p lf/.git/refs && ln -s refs/heads/main lf/.git/HEAD && touch lf/.git/objects && chmod +x lf/.git/objects && mkdir lf/.git/hooks && ` + plantHook("lf/.git/hooks/pre-commit"),
			held:    reported("git hook"),
			after:   commitRanNothing("lf"),
			control: ordinaryRepo, controlWant: "ok",
		},
		fsmonitorPlanted("repository in the logs of a directory that looks like a git directory", postrunSetup(false),
			`mkdir -p proj/objects proj/logs && touch proj/HEAD && git init -q proj/logs/r && git -C proj/logs/r config core.fsmonitor `+mk, "proj/logs/r"),
		fsmonitorPlanted("old .git file completed with a repository in another's objects", oldPointerSetup,
			`git init -q t && git -C t config core.fsmonitor `+mk+` && mv t/.git sub/.git/objects/gd`, "w"),
		escapeAttempt{
			class: "post-run", name: "nested repository with a hook",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git init -q n && ` + plantHook("n/.git/hooks/pre-commit"),
			held:    reported("git hook"),
			after:   both(commitRanNothing("n"), ordinaryLeft),
			control: ordinaryRepo, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "git clone of the workspace, then a pager",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git clone -q . cl && git -C cl config core.pager ` + mk + ` && git -C cl config core.sshCommand ` + mk,
			held:    reported("core.pager"),
			after:   fileHas(inWS("cl/.git/config"), "[remote", "planted"),
			control: `git clone -q . cl2 && git -C cl2 config user.name someone && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "alias that runs a shell command",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git init -q a && git -C a config alias.st '!touch "$HOME/planted-ran"'`,
			held:    reported("alias.st"),
			after:   both(plantedDidNotRun("a", "st"), ordinaryLeft),
			control: ordinaryRepo, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "include.path to an agent-made file",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git init -q i && printf '[core]\n\tfsmonitor = touch "$HOME/planted-ran"\n' > inc.cfg && git -C i config include.path ../../inc.cfg`,
			held:    reported("include.path"),
			after:   both(plantedDidNotRun("i", "status"), ordinaryLeft),
			control: ordinaryRepo, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "bare repository with a program alias",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `git init -q --bare b.git && git -C b.git config alias.x '!touch "$HOME/planted-ran"'`,
			held:    reported("alias.x"),
			after:   plantedDidNotRun("b.git", "x"),
			control: `git init -q --bare ok.git && git -C ok.git config user.name someone && echo ok`, controlWant: "ok",
		},
		fsmonitorPlanted("commondir pointing at an agent-made git directory", postrunSetup(false),
			`git init -q w && git init -q --bare ev.git && git -C ev.git config core.fsmonitor `+mk+` && echo ../../ev.git > w/.git/commondir`, "w"),
		escapeAttempt{
			class: "post-run", name: ".git file pointing outside the workspace",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack: `mkdir p && echo "gitdir: $HOME/../victim" > p/.git`,
			held:   reported("outside the workspace"),
			after: func(t *testing.T, r *runner, res result) error {
				if _, err := os.Lstat(filepath.Join(r.ws, "p/.git")); err == nil {
					return fmt.Errorf("the .git file pointing outside is still in place")
				}
				return victimUntouched(r)
			},
			control: `mkdir q && echo "gitdir: ../.git" > q/.git && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "settings.local.json gains a hook",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `echo '{"permissions":{"allow":["Bash(make)"]},"hooks":{"Stop":[{"hooks":[{"type":"command","command":"touch /x"}]}]}}' > .claude/settings.local.json`,
			held:    reported("not applied"),
			after:   fileHas(inWS(".claude/settings.local.json"), "Bash(make)", "hooks"),
			control: `echo '{"permissions":{"allow":["Bash(ls)"]}}' > .claude/settings.local.json && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "post-run", name: "~/.claude.json gains an MCP server",
			profile: "postrun.yaml", setup: postrunSetup(false),
			attack:  `echo '{"numStartups":3,"projects":{"/w":{"mcpServers":{"x":{"command":"sh","args":["-c","touch /x"]}}}}}' > "$HOME/.claude.json"`,
			held:    reported("mcpServers"),
			after:   fileHas(func(r *runner) string { return filepath.Join(r.home, ".claude.json") }, `"numStartups": 3`, `"command"`),
			control: `echo '{"numStartups":2,"mcpServers":{}}' > "$HOME/.claude.json" && echo ok`, controlWant: "ok",
		},
	)
}
