package userdirs

import (
	"os"
	"os/user"
)

// process is what the answers are worked out from: this process's ids and environment and
// the user database. osProcess reads them; tests give their own.
type process struct {
	uid, gid, euid int
	groups         []int
	getenv         func(name string) string
	lookupID       func(uid string) (*user.User, error)
	groupIDs       func(u *user.User) ([]string, error)
	homeDir        func() (string, error) // the process's own home directory ($HOME)
}

func osProcess() process {
	groups, _ := os.Getgroups()
	return process{
		uid:      os.Getuid(),
		gid:      os.Getgid(),
		euid:     os.Geteuid(),
		groups:   groups,
		getenv:   os.Getenv,
		lookupID: lookupID,
		groupIDs: groupIDs,
		homeDir:  os.UserHomeDir,
	}
}
