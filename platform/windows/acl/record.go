package acl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Record operations.
const (
	opBegin = "begin"
	opGrant = "grant"
	opEnd   = "end"
)

// record is one line of the journal.
type record struct {
	Op      string `json:"op"`
	Run     string `json:"run"`
	SID     string `json:"sid,omitempty"`
	Path    string `json:"path,omitempty"`
	Access  Access `json:"access,omitempty"`
	Inherit bool   `json:"inherit,omitempty"`
	PID     int    `json:"pid,omitempty"` // begin: the agentrun process, for people reading the file
}

func (r record) check() error {
	if r.Run == "" {
		return errors.New("no run")
	}
	switch r.Op {
	case opBegin:
		if r.SID == "" {
			return errors.New("begin without sid")
		}
	case opGrant:
		if r.SID == "" || r.Path == "" || !r.Access.valid() {
			return errors.New("grant without sid, path or access")
		}
	case opEnd:
	default:
		return fmt.Errorf("unknown op %q", r.Op)
	}
	return nil
}

// badLine is a journal line that is not a record.
type badLine struct {
	no   int
	text []byte
	err  error
}

// contents is what a journal file holds.
type contents struct {
	recs []record
	bad  []badLine
	torn bool // the last line has no newline: a write cut short, ignored
	size int  // bytes up to the last newline
}

// parseJournal reads journal bytes. A last line without its newline is a write cut short by
// a crash: its grant was never applied (Apply follows the record's fsync), so it is ignored.
// Any other line that is not a record is returned in bad, never dropped silently.
func parseJournal(b []byte) contents {
	var c contents
	end := bytes.LastIndexByte(b, '\n') + 1
	c.torn = end < len(b)
	c.size = end
	for no, line := range bytes.Split(b[:end], []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		err := dec.Decode(&r)
		if err == nil {
			err = r.check()
		}
		if err != nil {
			c.bad = append(c.bad, badLine{no: no + 1, text: line, err: err})
			continue
		}
		c.recs = append(c.recs, r)
	}
	return c
}

func readJournal(path string) (contents, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return contents{}, nil
	}
	if err != nil {
		return contents{}, fmt.Errorf("reading the ACL journal: %w", err)
	}
	return parseJournal(b), nil
}

// runState is one run as the journal tells it.
type runState struct {
	id     string
	sid    string
	grants []Grant
	ended  bool
	recs   []record
}

// runs groups records by run, in the order runs first appear.
func (c contents) runs() []*runState {
	var order []*runState
	byID := map[string]*runState{}
	for _, r := range c.recs {
		s := byID[r.Run]
		if s == nil {
			s = &runState{id: r.Run, sid: r.SID}
			byID[r.Run] = s
			order = append(order, s)
		}
		s.recs = append(s.recs, r)
		switch r.Op {
		case opGrant:
			if s.sid == "" {
				s.sid = r.SID
			}
			s.grants = append(s.grants, Grant{Path: r.Path, Access: r.Access, Inherit: r.Inherit})
		case opEnd:
			s.ended = true
		}
	}
	return order
}

func marshalRecords(recs ...record) ([]byte, error) {
	var buf bytes.Buffer
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
