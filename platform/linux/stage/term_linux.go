package stage

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/procstat"
)

// lifelineTerminate is the byte agentrun writes on the lifeline at a run's deadline: the stage
// then sends SIGTERM to every process of the sandbox (see terminateSandbox).
const lifelineTerminate = 'T'

// terminateRequest is agentrun's terminate request, passed to superviseAgent's loop with the
// signals: the signals must be sent from the thread that started the agent, the one whose
// Landlock domain is the agent's (each thread of the stage has a domain of its own, and
// Landlock's signal scoping lets a process signal only its own domain and those nested in it).
type terminateRequest struct{}

func (terminateRequest) String() string { return "terminate request" }
func (terminateRequest) Signal()        {}

// followLifeline is the stage's watch on agentrun (see superviseAgent): a terminate request
// goes to requests; the lifeline's end (agentrun is gone, nobody can relay the agent's output
// or clean up after it) ends the sandbox at once.
func followLifeline(agent int, requests chan<- os.Signal) {
	lifeline := os.NewFile(LifelineFD, "lifeline")
	b := make([]byte, 64)
	for {
		n, err := lifeline.Read(b)
		for _, c := range b[:n] {
			switch c {
			case lifelineTerminate:
				requests <- terminateRequest{}
			case lifelineContinue:
				requests <- continueRequest{}
			}
		}
		if err == io.EOF || (err != nil && n == 0) {
			break
		}
	}
	// PID 1 exiting kills everything in the sandbox's PID namespace.
	_ = unix.Kill(-agent, unix.SIGKILL)
	os.Exit(137)
}

// terminateSandbox sends SIGTERM to every process of the sandbox but the stage, then SIGCONT,
// for those stopped. In the sandbox's own PID namespace that is kill(-1): every process the
// stage may signal, which is every one there (they run as its user, in its Landlock domain or
// one nested in it), except the stage itself, its PID 1. The Landlock + seccomp tier has no
// namespace of its own (kill(-1) would reach all of the user's processes): there it is the
// agent's process group and every descendant of the stage, which is their subreaper, however
// they left the group.
func terminateSandbox(direct bool, agent int) {
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGCONT} {
		if !direct {
			_ = unix.Kill(-1, sig)
			continue
		}
		_ = unix.Kill(-agent, sig)
		for _, pid := range descendants(os.Getpid()) {
			_ = unix.Kill(pid, sig)
		}
	}
}

// descendants are the processes below pid in the process tree, read from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	for p, st := range procstat.All() {
		children[st.PPid] = append(children[st.PPid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// Terminate asks the stage on the lifeline w to end the sandbox (see followLifeline).
func Terminate(w io.Writer) error {
	_, err := w.Write([]byte{lifelineTerminate})
	return err
}
