//go:build !unix

package store

import (
	"errors"
	"os"
)

// appendJournal is for Unix only: elsewhere a run opens the database (see JournalBegin).
func appendJournal(string, []byte, *Owner) (int64, error) { return 0, errors.ErrUnsupported }

// openJournalExclusive opens a claimed journal (none is made here but by a Unix agentrun).
func openJournalExclusive(path string) (*os.File, error) { return os.Open(path) }
