package appcontainer

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/windows"
)

// Console is a pseudo console (ConPTY): what the process writes to it comes out of Output
// as VT sequences, and what is written to Input reaches the process as typed keys.
type Console struct {
	hpc windows.Handle
	in  *os.File
	out *io.PipeReader // fed from the output pipe until the console's host exits

	closeOnce sync.Once
	closeErr  error
}

// NewConsole creates a pseudo console of cols×rows with its two pipes
// (CreatePseudoConsole, Windows 10 1809 or later).
func NewConsole(cols, rows int) (*Console, error) {
	size, err := coord(cols, rows)
	if err != nil {
		return nil, err
	}
	var inR, inW, outR, outW windows.Handle
	if err := windows.CreatePipe(&inR, &inW, nil, 0); err != nil {
		return nil, fmt.Errorf("creating the pseudo console's input pipe: %w", err)
	}
	if err := windows.CreatePipe(&outR, &outW, nil, 0); err != nil {
		windows.CloseHandle(inR)
		windows.CloseHandle(inW)
		return nil, fmt.Errorf("creating the pseudo console's output pipe: %w", err)
	}
	var hpc windows.Handle
	err = windows.CreatePseudoConsole(size, inR, outW, 0, &hpc)
	// The console holds its own duplicates of its ends of the pipes (Microsoft's EchoCon sample).
	windows.CloseHandle(inR)
	windows.CloseHandle(outW)
	if err != nil {
		windows.CloseHandle(inW)
		windows.CloseHandle(outR)
		return nil, fmt.Errorf("creating a pseudo console (ConPTY needs Windows 10 1809 or later): %w", err)
	}
	// The output pipe is read to its end here and closed then, not by Close: since Windows
	// 11 24H2 ClosePseudoConsole returns before the console's last output is written, and
	// closing the pipe then would lose it.
	pr, pw := io.Pipe()
	go func(out *os.File) {
		_, err := io.Copy(pw, out)
		out.Close()
		pw.CloseWithError(err)
	}(os.NewFile(uintptr(outR), "pseudo console output"))
	return &Console{hpc: hpc, in: os.NewFile(uintptr(inW), "pseudo console input"), out: pr}, nil
}

func coord(cols, rows int) (windows.Coord, error) {
	if cols <= 0 || rows <= 0 || cols > 1<<15-1 || rows > 1<<15-1 {
		return windows.Coord{}, fmt.Errorf("a console of %d×%d: columns and rows are 1 to 32767", cols, rows)
	}
	return windows.Coord{X: int16(cols), Y: int16(rows)}, nil
}

// Input is where keys for the process are written.
func (c *Console) Input() *os.File { return c.in }

// Output is where the process's screen comes out, as VT sequences; it ends (io.EOF) once
// Close has ended the console and all it wrote was read. It must be read all along, to its
// end: ConPTY stops when its output is not read.
func (c *Console) Output() io.Reader { return c.out }

// Resize gives the console cols×rows.
func (c *Console) Resize(cols, rows int) error {
	size, err := coord(cols, rows)
	if err != nil {
		return err
	}
	if err := windows.ResizePseudoConsole(c.hpc, size); err != nil {
		return fmt.Errorf("resizing the pseudo console to %d×%d: %w", cols, rows, err)
	}
	return nil
}

// Close closes the console's input and the console, which ends the processes still
// attached to it; Output ends after the console's last output. Keep reading Output while
// Close runs: before Windows 11 24H2 ClosePseudoConsole waits for its last frame to be read.
func (c *Console) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.in.Close()
		windows.ClosePseudoConsole(c.hpc)
	})
	return c.closeErr
}
