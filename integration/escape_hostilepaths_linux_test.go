package integration

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/agentrun/agentrun/events"
)

// Hostile paths: the paths the agent names are read by agentrun, on the host, often as root.
// A FIFO or a symlink to a host FIFO must not hang it or make it open anything; a spelling
// through /proc or /dev/fd must not hide what it reaches from the record.

// hostFIFOs are the watched host FIFOs of the attempts under way, by runner.
var hostFIFOs sync.Map // *runner → func() bool (opened)

// ranToEnd is a held check: the attack's run ended by itself with the shell's status for a
// refused exec (126) or a missing file (127), rather than being killed while agentrun hung.
func ranToEnd(r *runner, res result) error {
	if res.code != 126 && res.code != 127 {
		return fmt.Errorf("want the run to end with the shell's 126 or 127: %s", res)
	}
	return nil
}

// recordedDenied is an after check: the run's events hold a denial of a path ending in suffix.
func recordedDenied(suffix string) func(t *testing.T, r *runner, res result) error {
	return func(t *testing.T, r *runner, res result) error {
		if !strings.Contains(res.stderr, "agentrun log --run ") {
			return fmt.Errorf("the run recorded no denial: %s", res)
		}
		for _, e := range storedEvents(t, r, "--run", runID(t, res)) {
			if e.Verdict == events.Denied && strings.HasSuffix(e.Path, suffix) {
				return nil
			}
		}
		return fmt.Errorf("no denial of …%s is recorded", suffix)
	}
}

// traced are the flags of the attempts on the judge's resolution of hostile spellings: in
// enforce mode only --trace makes the agent's opens wait while agentrun resolves what they name
// (the kernel's refusals are read after the call, when a process that has ended has no working
// directory or descriptors left to resolve against).
var traced = []string{"--trace"}

func init() {
	watchFIFO := func(t *testing.T, r *runner) {
		_, opened, _ := hostFIFO(t, r)
		hostFIFOs.Store(r, opened)
		t.Cleanup(func() { hostFIFOs.Delete(r) })
	}
	notOpened := func(t *testing.T, r *runner, res result) error {
		if v, ok := hostFIFOs.Load(r); ok && v.(func() bool)() {
			return fmt.Errorf("something opened the host FIFO the agent's symlink named")
		}
		return nil
	}
	const script = `printf '#!/bin/sh\necho ok\n' > s && chmod +x s && ./s`
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "hostile paths", name: "exec of a FIFO in the workspace",
			attack: `mkfifo f && chmod +x f && ./f`, held: ranToEnd,
			control: script, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "exec through a symlink to a FIFO in the workspace",
			attack: `mkfifo f && chmod +x f && ln -s "$PWD/f" l && ./l`, held: ranToEnd,
			control: script + ` && ln -s "$PWD/s" t && ./t`, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "exec through a symlink to a host FIFO",
			setup:  watchFIFO,
			attack: `ln -s "$HOME/../hostfifo" x && ./x`, held: ranToEnd, after: notOpened,
			control: `ln -s /bin/true y && ./y && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "script whose #! names a host FIFO",
			setup:  watchFIFO,
			attack: `printf '#!%s\n' "$HOME/../hostfifo" > s && chmod +x s && ./s`, held: ranToEnd, after: notOpened,
			control: script, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "/etc/shadow through /proc/self/root is recorded",
			where:  asRoot | asUser, // the Landlock + seccomp tier records no file events
			args:   traced,
			attack: `cat /proc/self/root/etc/shadow`, want: "denied", after: recordedDenied("/etc/shadow"),
			control: `cat /proc/self/root/etc/passwd >/dev/null && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "/etc/shadow through a descriptor of / is recorded",
			where:  asRoot | asUser,
			args:   traced,
			attack: `exec 3</ && cat /dev/fd/3/etc/shadow`, want: "denied", after: recordedDenied("/etc/shadow"),
			control: `exec 3</ && cat /dev/fd/3/etc/passwd >/dev/null && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "/etc/shadow through the working directory and .. is recorded",
			where:  asRoot | asUser,
			args:   traced,
			attack: `cat /proc/self/cwd/../../../../../../../etc/shadow`, want: "denied", after: recordedDenied("/etc/shadow"),
			control: `cat /proc/self/cwd/../../../../../../../etc/passwd >/dev/null && echo ok`, controlWant: "ok",
		},
		escapeAttempt{
			class: "hostile paths", name: "a path too long to walk is recorded, not skipped",
			where:  asRoot | asUser,
			args:   traced,
			attack: `cat /proc/self/root/$(for i in $(seq 300); do printf 'etc/../'; done)etc/shadow`, want: "denied", after: recordedDenied("/etc/shadow"),
			control: `cat /proc/self/root/$(for i in $(seq 300); do printf 'etc/../'; done)etc/passwd >/dev/null && echo ok`, controlWant: "ok",
		},
	)
}
