//go:build !unix

package store

import (
	"errors"
	"os"
)

// Outside Unix no run appends windows (appendJournal is Unix only): there is none to read.
func openWindows(p string) (*os.File, error)          { return nil, os.ErrNotExist }
func openWindowsExclusive(p string) (*os.File, error) { return nil, os.ErrNotExist }
func replaceFile(string, []byte, *Owner) error        { return errors.ErrUnsupported }
func processAlive(int, uint64) bool                   { return false }

// ProcessStart is not known outside Unix.
func ProcessStart(int) (uint64, error) { return 0, errors.ErrUnsupported }
