package appcontainer

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"

	"golang.org/x/sys/windows"
)

// The test binary is also the child the tests start: childMode chooses what it does, childArg
// is its argument.
const (
	childMode = "AGENTRUN_APPCONTAINER_TEST_CHILD"
	childArg  = "AGENTRUN_APPCONTAINER_TEST_ARG"
)

// The child's exit codes.
const (
	exitOK     = 0
	exitDenied = 5  // the operation failed with ACCESS_DENIED
	exitFailed = 9  // the operation failed otherwise
	exitSecond = 11 // spawn: the second child started too
)

// runChild does what childMode says and exits; it returns when the process is no child.
func runChild() {
	mode := os.Getenv(childMode)
	if mode == "" {
		return
	}
	arg := os.Getenv(childArg)
	os.Exit(child(mode, arg))
}

func child(mode, arg string) int {
	switch mode {
	case "read":
		if _, err := os.ReadFile(arg); err != nil {
			fmt.Println(err)
			if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
				return exitDenied
			}
			return exitFailed
		}
		return exitOK
	case "dial":
		c, err := net.DialTimeout("tcp", arg, 5*time.Second)
		if err != nil {
			fmt.Println(err)
			return exitFailed
		}
		c.Close()
		return exitOK
	case "exit":
		return 7
	case "alloc":
		// arg MiB, each page written, so that the memory is committed and used.
		var n int
		fmt.Sscan(arg, &n)
		var keep [][]byte
		for i := 0; i < n; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MiB")
		return exitOK
	case "sleep":
		time.Sleep(time.Minute)
		return exitOK
	case "spawn":
		first, err := startSleeper()
		if err != nil {
			fmt.Println("first:", err)
			return exitFailed
		}
		defer first.Process.Kill()
		second, err := startSleeper()
		if err != nil {
			fmt.Println("second:", err)
			return exitOK
		}
		second.Process.Kill()
		return exitSecond
	case "tree":
		c, err := startSleeper()
		if err != nil {
			fmt.Println("grandchild:", err)
			return exitFailed
		}
		fmt.Printf("pid %d\n", c.Process.Pid)
		time.Sleep(time.Minute)
		return exitOK
	}
	fmt.Println("unknown child mode", mode)
	return exitFailed
}

func startSleeper() (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := exec.Command(exe)
	c.Env = append(os.Environ(), childMode+"=sleep")
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stderr, os.Stderr
	return c, c.Start()
}
