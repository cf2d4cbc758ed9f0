package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Renaming a parent of a protected path, or planting what runs on its own: the read-only binds
// of .git/hooks and .git/config must not move away with a renamed .git, nor may the agent
// redirect git (commondir, a .git file, config.worktree) or plant a Claude Code, VS Code or
// direnv start-up file, or change the user's start-up files from a workspace at ~. Each
// attack plants a command that touches ~/PWNED (the home is read-only inside, so only the
// host can create it); the after hook runs the user's next command on the host, as the user.
// The degraded tier cannot keep protect rules inside the workspace and must refuse.

// plant writes evil.sh in the workspace: the program the attacks try to get run on the host.
const plant = `printf '#!/bin/sh\ntouch "$HOME/PWNED"\nexit 1\n' > evil.sh && chmod +x evil.sh; `

// identity lets commits work without writing any config file.
const identity = `-c user.name=t -c user.email=t@example.com`

func init() {
	gitTwin := "git checkout -q -b feature && echo x > new.txt && git add new.txt && git " + identity + " commit -qm x && " +
		"echo y > new.txt && git stash -q && git stash list | grep -q stash && git checkout -q - && echo twin-ok"
	dirTwin := "mkdir -p d/e && mv d d2 && rm -r d2 && mkdir .vscode 2>/dev/null; echo '{}' > .vscode/extensions.json && echo twin-ok"
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "rename", name: "mv .git aside and rebuild it with core.fsmonitor", protects: true,
			attack: plant + `mv .git .g && mkdir .git && cp -a .g/. .git/ && git config core.fsmonitor "$PWD/evil.sh"`,
			want:   "busy", after: hostGitRuns("status"),
			control: gitTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "rm -rf .git and git init a new one", protects: true,
			attack: plant + `rm -rf .git; git init -q . ; git config core.fsmonitor "$PWD/evil.sh"`,
			after:  hostGitRuns("status"),
			// The twin: creating and renaming ordinary directories still works.
			control: dirTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "mv .git/hooks aside and plant pre-commit", protects: true,
			attack: plant + `mv .git/hooks .git/h && mkdir .git/hooks && cp evil.sh .git/hooks/pre-commit`,
			want:   "busy", after: hostGitRuns(strings.Fields(identity + " commit -q --allow-empty -m host")...),
			control: gitTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "git config core.fsmonitor", protects: true,
			attack: plant + `git config core.fsmonitor "$PWD/evil.sh"`,
			want:   "could not write config file", after: hostGitRuns("status"),
			control: gitTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "commondir to a git directory the agent made", protects: true,
			attack: plant + `mkdir g && cp -a .git/objects .git/refs .git/HEAD g/ && printf '[core]\n\trepositoryformatversion = 0\n\tfsmonitor = %s\n' "$PWD/evil.sh" > g/config && echo "$PWD/g" > .git/commondir`,
			// .git/commondir did not exist: the agent may create it, and it is moved aside after the run.
			held:    func(r *runner, res result) error { return nil },
			after:   all(hostGitRuns("status"), absent("project/.git/commondir")),
			control: gitTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "config.worktree with extensions.worktreeConfig", protects: true,
			attack:  plant + `printf '[core]\n\tfsmonitor = %s\n' "$PWD/evil.sh" > .git/config.worktree; git config extensions.worktreeConfig true`,
			want:    "could not write config file",
			after:   all(hostGitRuns("status"), absent("project/.git/config.worktree")),
			control: gitTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: ".git/info/attributes filter driver", protects: true,
			attack: `echo '* filter=evil' >> .git/info/attributes`, want: "Read-only file system",
			control: `echo '*.txt text' >> .gitattributes && git add .gitattributes && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: ".git file of a separate git dir redirected", protects: true,
			setup:  separateGitDir,
			attack: plant + `mkdir g && cp -a ../sep.git/. g/ && printf '[core]\n\trepositoryformatversion = 0\n\tfsmonitor = %s\n' "$PWD/evil.sh" > g/config && printf 'gitdir: %s\n' "$PWD/g" > .git`,
			want:   "Read-only file system", after: hostGitRuns("status"),
			// The repository is in the read-only home: the twin reads it.
			control: `git log -1 --format=%s`, controlWant: "init",
		},
		escapeAttempt{
			class: "rename", name: ".gitmodules moved aside and rewritten", protects: true,
			setup:  hostFiles(map[string]string{"project/.gitmodules": ""}),
			attack: `mv .gitmodules gm; printf '[submodule "x"]\n\tpath = x\n\turl = ext::sh -c evil\n' > .gitmodules`,
			want:   "Read-only file system", after: unchanged("project/.gitmodules", ""),
			control: dirTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: ".claude renamed aside, settings.json with hooks", protects: true,
			setup:  hostFiles(map[string]string{"project/.claude/settings.json": "{}\n"}),
			attack: plant + `mv .claude .c && mkdir .claude && printf '{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"%s"}]}]}}' "$PWD/evil.sh" > .claude/settings.json`,
			want:   "busy", after: unchanged("project/.claude/settings.json", "{}\n"),
			control: `echo notes > .claude/NOTES.md && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "settings.json planted in an existing .claude", protects: true,
			setup:  hostFiles(map[string]string{"project/.claude/CLAUDE.md": "rules\n"}),
			attack: plant + `printf '{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"%s"}]}]}}' "$PWD/evil.sh" > .claude/settings.json && mv .claude .c`,
			want:   "busy", after: absent("project/.claude/settings.json"),
			control: `echo more >> .claude/CLAUDE.md && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: ".vscode/tasks.json runOn folderOpen", protects: true,
			setup:  hostFiles(map[string]string{"project/.vscode/tasks.json": "{}\n"}),
			attack: plant + `printf '{"version":"2.0.0","tasks":[{"label":"x","type":"shell","command":"%s","runOptions":{"runOn":"folderOpen"}}]}' "$PWD/evil.sh" > .vscode/tasks.json; mv .vscode .v`,
			want:   "busy", after: unchanged("project/.vscode/tasks.json", "{}\n"),
			control: `echo '{}' > .vscode/extensions.json && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "new .vscode/tasks.json and .envrc", protects: true,
			attack: plant + `mkdir -p .vscode && echo '{"tasks":[{"command":"./evil.sh","runOptions":{"runOn":"folderOpen"}}]}' > .vscode/tasks.json && echo ./evil.sh > .envrc && exit 3`,
			// Neither existed: the agent may write them, and they are moved aside after the run.
			held:    func(r *runner, res result) error { return nil },
			after:   all(absent("project/.vscode/tasks.json"), absent("project/.envrc")),
			control: dirTwin, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "existing .envrc rewritten", protects: true,
			setup:  hostFiles(map[string]string{"project/.envrc": "export A=1\n"}),
			attack: `echo ./evil.sh >> .envrc`, want: "Read-only file system",
			after:   unchanged("project/.envrc", "export A=1\n"),
			control: `echo 'A=1' > .env.example && echo twin-ok`, controlWant: "twin-ok",
		},
		// Claude's profile protects its plugins by name (installed_plugins.json, cache/, …),
		// leaving ~/.claude/plugins writable for the built-in plugins' state: the directory
		// holding a protected path must still not move, nor a missing one be kept.
		escapeAttempt{
			class: "rename", name: "~/.claude/plugins renamed aside, a plugin planted in cache", protects: true, profile: "claude",
			setup:  hostFiles(map[string]string{".claude/plugins/cache/mkt/p/plugin.json": "{}\n"}),
			attack: `mv "$HOME/.claude/plugins" "$HOME/.claude/p" && mkdir -p "$HOME/.claude/plugins/cache/mkt/evil" && echo '{"hooks":{}}' > "$HOME/.claude/plugins/cache/mkt/evil/hooks.json"`,
			want:   "busy", after: all(unchanged(".claude/plugins/cache/mkt/p/plugin.json", "{}\n"), absent(".claude/plugins/cache/mkt/evil/hooks.json")),
			control: `mkdir -p "$HOME/.claude/plugins/store" && echo '{}' > "$HOME/.claude/plugins/store/s.json" && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "~/.claude/plugins/installed_plugins.json made", protects: true, profile: "claude",
			setup:  hostFiles(map[string]string{".claude/plugins/store/s.json": "{}\n"}),
			attack: `printf '{"plugins":{"evil@mkt":[{"installPath":"%s"}]}}' "$PWD" > "$HOME/.claude/plugins/installed_plugins.json" && exit 3`,
			// It did not exist: the agent may write it, and it is moved aside after the run.
			held:    func(r *runner, res result) error { return nil },
			after:   absent(".claude/plugins/installed_plugins.json"),
			control: `echo '{"a":1}' > "$HOME/.claude/plugins/store/s.json" && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "workspace at ~ without --allow-home-workspace",
			args:   []string{"--workspace", ".."},
			attack: `echo 'touch "$HOME/PWNED"' >> "$HOME/.bashrc"`,
			held: func(r *runner, res result) error {
				if res.code != 125 || !strings.Contains(res.stderr, "--allow-home-workspace") {
					return fmt.Errorf("want the home workspace refused (exit 125, naming --allow-home-workspace): %s", res)
				}
				return nil
			},
			after: unchanged(".bashrc", "# rc\n"),
			// No twin here: the frame gives both the same flags. The twins of the attempts
			// below run at ~ with --allow-home-workspace.
		},
		escapeAttempt{
			class: "rename", name: "workspace at ~: move ~/.config aside", protects: true,
			args:   []string{"--workspace", "..", "--allow-home-workspace"},
			attack: `mv "$HOME/.config" "$HOME/.c" && mkdir -p "$HOME/.config/systemd/user" && echo '[Service]' > "$HOME/.config/systemd/user/evil.service"`,
			want:   "busy", after: absent(".config/systemd/user/evil.service"),
			control: `mkdir "$HOME/scratch" && mv "$HOME/scratch" "$HOME/scratch2" && rmdir "$HOME/scratch2" && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "workspace at ~: plant ~/.local/bin/git", protects: true,
			args:   []string{"--workspace", "..", "--allow-home-workspace"},
			setup:  hostFiles(map[string]string{".local/bin/.keep": ""}),
			attack: `printf '#!/bin/sh\ntouch "$HOME/PWNED"\n' > "$HOME/.local/bin/git"; mv "$HOME/.local" "$HOME/.l"`,
			want:   "busy", after: absent(".local/bin/git"),
			control: `echo x > "$HOME/.local/notes" && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "rename", name: "workspace at ~: new ~/.local/bin", protects: true,
			args:   []string{"--workspace", "..", "--allow-home-workspace"},
			attack: `mkdir -p "$HOME/.local/bin" && printf '#!/bin/sh\ntouch "$HOME/PWNED"\n' > "$HOME/.local/bin/git" && chmod +x "$HOME/.local/bin/git" && exit 3`,
			// ~/.local/bin did not exist: the agent may create it, and it is moved aside after the run.
			held:    func(r *runner, res result) error { return nil },
			after:   absent(".local/bin/git"),
			control: `echo x > "$HOME/notes2" && echo twin-ok`, controlWant: "twin-ok",
		},
	)
}

// onHostAsUser runs argv on the host as the runner's user, in the workspace, with the fixture home:
// the user's next command after the run.
func onHostAsUser(r *runner, argv ...string) ([]byte, error) {
	if r.unprivate {
		argv = append([]string{"setpriv", "--reuid", strconv.Itoa(r.uid), "--regid", strconv.Itoa(r.gid), "--init-groups", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.ws
	cmd.Env = []string{"HOME=" + r.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "GIT_CONFIG_NOSYSTEM=1"}
	return cmd.CombinedOutput()
}

// hostGitRuns runs git with args on the host as the user, and fails if a planted command ran.
func hostGitRuns(args ...string) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		out, _ := onHostAsUser(r, append([]string{"git"}, args...)...) // a damaged repository may make git fail; what matters is what it ran
		if _, err := os.Stat(filepath.Join(r.home, "PWNED")); err == nil {
			return fmt.Errorf("git %s on the host ran the agent's command: %s", strings.Join(args, " "), out)
		}
		return nil
	}
}

// absent fails if the agent's file exists on the host after the run (rel is under the home).
func absent(rel string) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		if _, err := os.Lstat(filepath.Join(r.home, rel)); err == nil {
			return fmt.Errorf("~/%s is still there after the run", rel)
		}
		return nil
	}
}

// unchanged fails if the host file rel (under the home) no longer holds content.
func unchanged(rel, content string) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		b, err := os.ReadFile(filepath.Join(r.home, rel))
		if err != nil || string(b) != content {
			return fmt.Errorf("~/%s changed: %q, %v", rel, b, err)
		}
		return nil
	}
}

func all(checks ...func(t *testing.T, r *runner, res result) error) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		for _, c := range checks {
			if err := c(t, r, res); err != nil {
				return err
			}
		}
		return nil
	}
}

// hostFiles writes files under the fixture home, owned by the runner's user.
func hostFiles(files map[string]string) func(t *testing.T, r *runner) {
	return func(t *testing.T, r *runner) {
		for rel, content := range files {
			p := filepath.Join(r.home, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		chownHome(t, r)
	}
}

// separateGitDir moves the workspace's repository to ~/sep.git, leaving a .git file that
// points to it (git init --separate-git-dir, as worktrees and submodules have).
func separateGitDir(t *testing.T, r *runner) {
	cmd := exec.Command("git", "init", "-q", "--separate-git-dir", filepath.Join(r.home, "sep.git"))
	cmd.Dir = r.ws
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init --separate-git-dir: %v: %s", err, out)
	}
	chownHome(t, r)
}

func chownHome(t *testing.T, r *runner) {
	if !r.unprivate {
		return
	}
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", r.uid, r.gid), r.home).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
}
