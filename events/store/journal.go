package store

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The run journal: a run that records no event does not open the database (its SQLite
// connection, pragmas and schema cost a launch ≈ 1.5–2.5 ms of CPU). It appends a line to
// runs.journal beside the database as it starts and another as it ends; the next Open, by any
// agentrun command, moves the journal's runs into the database. A run that records an event
// opens the database as before (its begin line, imported or not, names the same run).
const journalName = "runs.journal"

// errNotJournal is a journal's name on something other than a regular file.
var errNotJournal = errors.New("not a regular file")

// maxJournalLine bounds one line of the journal (a run's command line included).
const maxJournalLine = 1 << 20

// journalLine is one line of the journal: a run's start, or (Ended set) its end.
type journalLine struct {
	ID       string   `json:"id"`
	Profile  string   `json:"profile"`
	Mode     string   `json:"mode"`
	Command  []string `json:"command"`
	Started  int64    `json:"started"`
	Ended    int64    `json:"ended,omitempty"`
	ExitCode int      `json:"exit_code,omitempty"`
}

// JournalFull is the size past which the run that appends to the journal imports it (see
// JournalEnd): runs without events might otherwise never open the store.
const JournalFull = 1 << 20

// JournalBegin records in dir's journal that run info started.
func JournalBegin(dir string, opts Options, info RunInfo) error {
	_, err := appendJournalLine(dir, opts, journalLine{ID: info.ID, Profile: info.Profile, Mode: info.Mode, Command: info.Command, Started: nanos(info.Started)})
	return err
}

// JournalEnd records in dir's journal that run info ended with exitCode, and returns the run
// as recorded; full says that the journal is past JournalFull, and the caller should open the
// store, which imports it.
func JournalEnd(dir string, opts Options, info RunInfo, exitCode int) (_ RunInfo, full bool, _ error) {
	info.Ended, info.ExitCode = time.Now(), exitCode
	info.Events, info.Dropped, info.Capped = 0, 0, 0
	size, err := appendJournalLine(dir, opts, journalLine{ID: info.ID, Profile: info.Profile, Mode: info.Mode, Command: info.Command, Started: nanos(info.Started), Ended: nanos(info.Ended), ExitCode: exitCode})
	return info, size > JournalFull, err
}

func appendJournalLine(dir string, opts Options, l journalLine) (int64, error) {
	if l.ID == "" {
		return 0, errors.New("journal: no run ID")
	}
	data, err := json.Marshal(l)
	if err != nil {
		return 0, err
	}
	if len(data) >= maxJournalLine {
		return 0, fmt.Errorf("journal: run %s's line is %d bytes", l.ID, len(data))
	}
	if err := prepareDir(dir, opts); err != nil {
		return 0, fmt.Errorf("journal in %s: %w", dir, err)
	}
	size, err := appendJournal(filepath.Join(dir, journalName), append(data, '\n'), opts.Owner)
	if err != nil {
		return 0, fmt.Errorf("journal in %s: %w", dir, err)
	}
	return size, nil
}

// importJournal moves the runs of the journal (and of journals an earlier import claimed and
// did not finish) into the database, in one transaction; each journal it read is removed.
// Importing a line twice changes nothing: a start adds a run that is not there yet, an end
// sets the run's end.
func (s *Store) importJournal() error {
	dir := filepath.Dir(s.path)
	path := filepath.Join(dir, journalName)
	claim := fmt.Sprintf("%s.import-%d-%d", path, os.Getpid(), time.Now().UnixNano())
	if err := os.Rename(path, claim); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("claiming the run journal: %w", err)
	}
	claims, err := filepath.Glob(path + ".import-*")
	if err != nil || len(claims) == 0 {
		return err
	}
	var lines []journalLine
	var read []string
	for _, c := range claims {
		ls, err := readJournal(c)
		if errors.Is(err, os.ErrNotExist) {
			continue // another import took it
		}
		if errors.Is(err, errNotJournal) {
			_ = os.Remove(c) // not agentrun's: a link or a FIFO put there
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the run journal %s: %w", c, err)
		}
		lines = append(lines, ls...)
		read = append(read, c)
	}
	err = s.withTx(func(tx *sql.Tx) error {
		for _, l := range lines {
			if err := importJournalLine(tx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("importing the run journal: %w", err)
	}
	for _, c := range read {
		_ = os.Remove(c)
	}
	return nil
}

func importJournalLine(tx *sql.Tx, l journalLine) error {
	command, err := json.Marshal(l.Command)
	if err != nil {
		return err
	}
	if l.Ended == 0 {
		_, err = tx.Exec(`INSERT INTO runs (id, profile, mode, command, started) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, l.ID, l.Profile, l.Mode, string(command), l.Started)
		return err
	}
	_, err = tx.Exec(`INSERT INTO runs (id, profile, mode, command, started, ended, exit_code)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ended = excluded.ended, exit_code = excluded.exit_code`,
		l.ID, l.Profile, l.Mode, string(command), l.Started, l.Ended, l.ExitCode)
	return err
}

// readJournal reads a claimed journal once no run appends to it any more (see appendJournal);
// a line that does not decode (a write cut short by a full disk) is skipped.
func readJournal(path string) ([]journalLine, error) {
	f, err := openJournalExclusive(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []journalLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxJournalLine+1)
	for sc.Scan() {
		var l journalLine
		if line := strings.TrimSpace(sc.Text()); line == "" || json.Unmarshal([]byte(line), &l) != nil || l.ID == "" {
			continue
		}
		out = append(out, l)
	}
	return out, sc.Err()
}
