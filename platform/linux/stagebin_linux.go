package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/stage"
	"github.com/agentrun/agentrun/platform/steps"
)

// stageName is the stage's own binary, which scripts/build.sh builds beside agentrun.
const stageName = "agentrun-stage"

// stageBuildID is the Go build ID of the agentrun-stage built with this agentrun, which
// scripts/build.sh sets (-X); empty (a plain go build), agentrun starts itself as the stage.
var stageBuildID string

// stageBinary is the program a launch starts as the stage: agentrun-stage beside agentrun,
// opened once and run through its descriptor (so that what was checked is what runs), or
// agentrun itself.
type stageBinary struct {
	path string   // the program's path, which the file judge knows the stage's processes by
	file *os.File // agentrun-stage, opened; nil for agentrun itself
}

// findStage is the stage's program for agentrun at self: agentrun-stage beside it when that
// comes from agentrun's own build and nobody but root or agentrun's owner can have written it;
// otherwise agentrun itself, saying on warn why a stage binary that is there is not used.
// The stage starts in the sandbox's namespaces with the capabilities that build it (as root,
// root's), so it is trusted as agentrun itself is.
func findStage(self string, warn io.Writer) stageBinary {
	path, f, err := stageCandidate(self)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(warn, "agentrun: not using %s: %v; agentrun starts itself as the sandbox's stage instead (slower)\n", path, err)
	}
	if f == nil {
		return stageBinary{path: self}
	}
	return stageBinary{path: path, file: f}
}

// stageCandidate is agentrun-stage beside agentrun at self, opened and checked (see
// findStage); no file and no error for a build without one.
func stageCandidate(self string) (path string, f *os.File, err error) {
	if stageBuildID == "" {
		return "", nil, nil
	}
	path = filepath.Join(filepath.Dir(self), stageName)
	f, err = openStage(path, self)
	return path, f, err
}

// stageState says, for doctor, which program a launch starts as the stage.
func stageState() string {
	const slower = "each launch starts ≈ 3 ms slower"
	self, err := os.Executable()
	if err != nil {
		return fmt.Sprintf("agentrun itself (%v)", err)
	}
	path, f, err := stageCandidate(self)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("agentrun itself: no %s (scripts/install.sh installs it beside agentrun; %s)", path, slower)
	case err != nil:
		return fmt.Sprintf("agentrun itself: %s is not used: %v (%s)", path, err, slower)
	case f == nil:
		return fmt.Sprintf("agentrun itself: built without scripts/build.sh, which builds %s beside it (%s)", stageName, slower)
	}
	f.Close()
	return path + " (from agentrun's own build)"
}

// openStage opens the stage binary at path, not through a symbolic link, and checks it: a
// regular executable file, owned by root or by agentrun's (self's) owner, writable by nobody
// else, of stageBuildID.
func openStage(path, self string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, errors.New("it is a symbolic link (install the binary itself there)")
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if err := checkStage(f, self); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkStage(f *os.File, self string) error {
	var st, own unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if err := unix.Stat(self, &own); err != nil {
		return err
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return errors.New("it is not a regular file")
	case st.Uid != 0 && st.Uid != own.Uid:
		return fmt.Errorf("it belongs to uid %d, neither root nor agentrun's owner (uid %d)", st.Uid, own.Uid)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("others may write it (mode %#o: chmod go-w it)", st.Mode&0o7777)
	case st.Mode&0o111 == 0:
		return errors.New("it is not executable")
	}
	head := make([]byte, 8192)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return err
	}
	if !bytes.Contains(head[:n], goBuildIDNote(stageBuildID)) {
		return errors.New("it is not from agentrun's build (scripts/install.sh installs both)")
	}
	return nil
}

// goBuildIDNote is the ELF note in which the Go linker writes a binary's build ID, near the
// file's start: name size 4, description size, type 4, "Go\0\0", the ID.
func goBuildIDNote(id string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(id)))
	b = binary.LittleEndian.AppendUint32(b, 4)
	return append(append(b, "Go\x00\x00"...), id...)
}

// command runs the stage with extra as its descriptors 3 onwards; agentrun-stage through
// the descriptor after them, which the stage marks close-on-exec before it starts the agent.
// Its environment is empty (the agent's comes in its configuration) but for where a
// benchmark records the steps of a launch (and, added by stageProc.command, the idmapping the
// run is expected to need: stage.IDMapEnv).
func (b stageBinary) command(extra ...*os.File) *exec.Cmd {
	var cmd *exec.Cmd
	if b.file == nil {
		cmd = exec.Command(b.path, stage.Arg)
		cmd.ExtraFiles = extra
	} else {
		cmd = exec.Command("/proc/self/fd/"+strconv.Itoa(3+len(extra)), stage.Arg)
		cmd.Args[0] = stageName
		cmd.ExtraFiles = append(extra, b.file)
	}
	cmd.Env = []string{}
	if path := os.Getenv(steps.Env); path != "" {
		cmd.Env = []string{steps.Env + "=" + path}
	}
	return cmd
}

// started closes agentrun's descriptor of the stage binary once the stage runs.
func (b stageBinary) started() {
	if b.file != nil {
		b.file.Close()
	}
}
