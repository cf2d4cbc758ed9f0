package integration

import (
	"fmt"
	"os"
	"os/exec"
)

// removeTestUser deletes the test account and its home if the tests created it.
func removeTestUser() {
	if !createdTestUser {
		return
	}
	if out, err := exec.Command("userdel", "--remove", testUserName).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "removing the test user: %v: %s\n", err, out)
	}
}
