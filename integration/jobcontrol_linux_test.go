package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// selfSuspend is an agent that suspends itself as Claude Code does on Ctrl-Z: its terminal
// raw, it reads the key, puts the terminal back and stops its own process group. The words
// the tests wait for are computed, so that the typed command line does not show them.
const selfSuspend = `echo ready-$((6*7)); stty raw -echo; dd bs=1 count=1 >/dev/null 2>&1; stty sane; kill -TSTP 0; echo resumed-$((6*7))`

// TestJobControl: a run stops and goes on as the agent would without agentrun, in each tier
// (the sandbox's own terminal as root and as a user, the user's terminal in the Landlock +
// seccomp tier), under an interactive shell in tmux. Ctrl-Z stops the agent and the shell
// says the job stopped and has the terminal; `fg` continues the agent, its terminal raw again
// (Ctrl-C then reaches the agent, exit 130). An agent that suspends itself is stopped and
// continued the same way; where no shell controls jobs, it goes on at once, never left
// stopped. The agent gets job control's signals as agentrun got them, not ignored.
func TestJobControl(t *testing.T) {
	for i, tier := range []struct {
		name         string
		unprivileged bool
		jail, pty    bool
		extra        []string
	}{
		{name: "root", pty: true},
		{name: "user", unprivileged: true, pty: true},
		{name: "landlock-seccomp tier", unprivileged: true, jail: true, extra: []string{"--allow-degraded", "--allow-unprotected"}},
	} {
		t.Run(tier.name, func(t *testing.T) {
			r := newRunner(t, tier.unprivileged)
			r.jail = tier.jail
			args := append([]string{"--profile", r.profile, "--network", "none"}, tier.extra...)

			t.Run("signals not ignored", func(t *testing.T) {
				res := r.run(t, append(args, "--", "grep", "^SigIgn:", "/proc/self/status")...)
				f := strings.Fields(res.stdout)
				if res.code != 0 || len(f) != 2 {
					t.Fatalf("want the agent's SigIgn line; got %s", res)
				}
				ign, err := strconv.ParseUint(f[1], 16, 64)
				// Job control's, and SIGPIPE (agentrun asks for it, see surviveClosedPipes).
				const caught = 1<<(20-1) | 1<<(21-1) | 1<<(22-1) | 1<<(13-1)
				if err != nil || ign&caught != 0 {
					t.Errorf("the agent ignores SIGTSTP, SIGTTIN, SIGTTOU or SIGPIPE (SigIgn %s)", f[1])
				}
			})

			t.Run("ctrl-z and fg", func(t *testing.T) {
				tm := jobShell(t, r)
				tm.cmd("send-keys", "-t", "t", jobLine(t, r, args, `echo started-$((6*7)); read x; echo got-$x; sleep 60`, false), "Enter")
				tm.waitFor("started-42")
				time.Sleep(200 * time.Millisecond) // the read under way
				tm.cmd("send-keys", "-t", "t", "C-z")
				tm.waitFor("Stopped")
				tm.cmd("send-keys", "-t", "t", "echo outside-$((6*7))", "Enter")
				tm.waitFor("outside-42")
				tm.cmd("send-keys", "-t", "t", "fg; echo agentrun-exit=$?", "Enter")
				if tier.pty {
					tm.waitRaw()
				}
				tm.cmd("send-keys", "-t", "t", "hello", "Enter")
				tm.waitFor("got-hello")
				tm.cmd("send-keys", "-t", "t", "C-c")
				tm.waitFor("agentrun-exit=130")
			})

			t.Run("bg then fg", func(t *testing.T) {
				// Continued in the background the agent goes on (its output comes); `fg`
				// brings the job back, which sends no SIGCONT to a job that runs: agentrun
				// finds itself in the foreground and takes the terminal raw again.
				tm := jobShell(t, r)
				tm.cmd("send-keys", "-t", "t", jobLine(t, r, args, `echo started-$((6*7)); sleep 1; echo tick-$((6*7)); read x; echo got-$x`, false), "Enter")
				tm.waitFor("started-42")
				tm.cmd("send-keys", "-t", "t", "C-z")
				tm.waitFor("Stopped")
				tm.cmd("send-keys", "-t", "t", "bg", "Enter")
				tm.waitFor("tick-42")
				tm.cmd("send-keys", "-t", "t", "fg; echo agentrun-exit=$?", "Enter")
				if tier.pty {
					tm.waitRaw()
				} else {
					time.Sleep(500 * time.Millisecond) // the agent continued, reading its terminal
				}
				tm.cmd("send-keys", "-t", "t", "hello", "Enter")
				tm.waitFor("got-hello")
				tm.waitFor("agentrun-exit=0")
			})

			t.Run("ctrl-z with the agent on no terminal", func(t *testing.T) {
				// The agent's input is not the terminal: it gets no terminal of its own and
				// Ctrl-Z stops agentrun's job, which the agent is stopped and continued with.
				tm := jobShell(t, r)
				agent := "sleep " + strconv.Itoa(64+i)
				tm.cmd("send-keys", "-t", "t", jobLine(t, r, args, "echo started-$((6*7)); "+agent+"; echo slept-$((6*7))", false)+" </dev/null", "Enter")
				tm.waitFor("started-42")
				waitForProcess(t, agent)
				tm.cmd("send-keys", "-t", "t", "C-z")
				tm.waitFor("Stopped")
				waitStopped(t, agent)
				tm.cmd("send-keys", "-t", "t", "fg; echo agentrun-exit=$?", "Enter")
				waitRunning(t, agent)
				tm.cmd("send-keys", "-t", "t", "C-c")
				tm.waitFor("agentrun-exit=130")
			})

			t.Run("agent suspends itself", func(t *testing.T) {
				tm := jobShell(t, r)
				tm.cmd("send-keys", "-t", "t", jobLine(t, r, args, selfSuspend, false), "Enter")
				tm.waitFor("ready-42")
				time.Sleep(200 * time.Millisecond) // the terminal raw
				tm.cmd("send-keys", "-t", "t", "C-z")
				pane := tm.waitFor("Stopped")
				if strings.Contains(pane, "resumed-42") {
					t.Fatalf("the agent went on before fg:\n%s", pane)
				}
				tm.cmd("send-keys", "-t", "t", "fg; echo agentrun-exit=$?", "Enter")
				tm.waitFor("resumed-42")
				tm.waitFor("agentrun-exit=0")
			})

			t.Run("terminal closed while stopped", func(t *testing.T) {
				// The shell sends its stopped job SIGHUP and SIGCONT: agentrun relays the
				// hangup to the agent, stopped too, which must then end, and the run with it.
				tm := jobShell(t, r)
				agent := "sleep " + strconv.Itoa(61+i)
				tm.cmd("send-keys", "-t", "t", jobLine(t, r, args, "echo started-$((6*7)); "+agent, false), "Enter")
				tm.waitFor("started-42")
				waitForProcess(t, agent)
				tm.cmd("send-keys", "-t", "t", "C-z")
				tm.waitFor("Stopped")
				tm.cmd("kill-server")
				waitGone(t, agent)
				waitGone(t, agentrunBin+" .*"+agent)
			})

			t.Run("SIGTERM ends a stopped agent", func(t *testing.T) {
				// Without a terminal no one continues a stopped agent; agentrun's SIGTERM
				// still ends it, as the shell's kill ends a stopped job.
				script := "echo stopping; kill -STOP 0; echo continued-" + strconv.Itoa(i)
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // a stopped agent ignores it
				defer cancel()
				cmd := r.command(ctx, append(args, "--", "sh", "-c", script)...)
				var out strings.Builder
				cmd.Stdout = &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				waitStopped(t, "sh -c "+script)
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
				if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) || strings.Contains(out.String(), "continued") {
					t.Errorf("want the stopped agent ended by SIGTERM (exit 143), got %d, output %q", code, out.String())
				}
			})

			t.Run("terminal given back from a group left in the foreground", func(t *testing.T) {
				// A process of the sandbox takes the terminal for a group of its own and stays
				// there when the agent exits: the run ends it, and the shell that ran agentrun
				// reads its terminal again (a read from the background would fail).
				script := `perl -e 'use POSIX; $SIG{TTOU} = "IGNORE"; if (!fork) { setpgid(0, 0); tcsetpgrp(0, $$); sleep 60; exit } sleep 1; print "left-fg\n"'`
				tm := newTmux(t)
				tm.cmd("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "sh", "-c", jobLine(t, r, args, script, true)+"; read x; echo read-$x; sleep 60")
				tm.waitFor("agentrun-exit=0")
				tm.cmd("send-keys", "-t", "t", "hello", "Enter")
				if pane := tm.waitFor("read-"); !strings.Contains(pane, "read-hello") {
					t.Errorf("the shell could not read its terminal after the run:\n%s", pane)
				}
			})

			t.Run("no shell controls jobs", func(t *testing.T) {
				// sh -c leads the session, and agentrun's group with it is orphaned: its stop
				// does not happen, and the agent is continued at once.
				tm := newTmux(t)
				tm.cmd("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "sh", "-c", jobLine(t, r, args, selfSuspend, true)+"; sleep 60")
				tm.waitFor("ready-42")
				time.Sleep(200 * time.Millisecond)
				tm.cmd("send-keys", "-t", "t", "C-z")
				tm.waitFor("resumed-42")
				tm.waitFor("agentrun-exit=0")
			})
		})
	}
}

// jobShell starts an interactive bash under tmux, with job control, ready for a command line.
func jobShell(t *testing.T, r *runner) *tmux {
	t.Helper()
	tm := newTmux(t)
	tm.cmd("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "bash", "--norc", "--noprofile", "-i")
	tm.cmd("send-keys", "-t", "t", "PS1='jobs$ '", "Enter")
	tm.waitFor("jobs$")
	return tm
}

// jobLine is the command line that runs script in the sandbox as r's user (the command
// r.command makes), and says agentrun's exit status after it when status (under job control,
// `fg` says it).
func jobLine(t *testing.T, r *runner, args []string, script string, status bool) string {
	cmd := r.command(t.Context(), append(args, "--", "sh", "-c", script)...)
	line := "cd " + r.ws + " && env " + shellJoin(cmd.Env) + " " + shellJoin(cmd.Args)
	if status {
		line += "; echo agentrun-exit=$?"
	}
	return line
}

// waitRaw waits until the pane's terminal is raw as agentrun makes it (no signals from
// keys: a shell reading a line keeps them).
func (tm *tmux) waitRaw() {
	tm.t.Helper()
	tty := strings.TrimSpace(tm.cmd("display-message", "-p", "-t", "t", "#{pane_tty}"))
	var out []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, _ = exec.Command("stty", "-a", "-F", tty).Output()
		if slices.Contains(strings.Fields(string(out)), "-isig") {
			return
		}
	}
	ps, _ := exec.Command("sh", "-c", "ps -eLo pid,tid,stat,wchan:25,args | grep -E 'agentrun|sh -c echo' | grep -v grep").Output()
	tm.t.Fatalf("the terminal never became raw again: %s\n%s\n%s", out, ps, tm.cmd("capture-pane", "-p", "-t", "t"))
}

// waitGone waits until no process's command line matches the pgrep pattern.
func waitGone(t *testing.T, pattern string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-f", pattern).Output()
		if len(strings.TrimSpace(string(out))) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q still runs: pid %s", pattern, strings.TrimSpace(string(out)))
		}
	}
}

// waitStopped waits until the process with exactly this command line is stopped.
func waitStopped(t *testing.T, args string) { waitState(t, args, true) }

// waitRunning waits until the process with exactly this command line is not stopped.
func waitRunning(t *testing.T, args string) { waitState(t, args, false) }

func waitState(t *testing.T, args string, stopped bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-f", "-x", args).Output()
		for _, pid := range strings.Fields(string(out)) {
			stat, _ := os.ReadFile("/proc/" + pid + "/stat")
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && (f[0] == "T") == stopped {
				return
			}
		}
	}
	t.Fatalf("%q never was in the state wanted (stopped: %v)", args, stopped)
}
