package profiles

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a profile file. Line and Col are 1-based; zero means unknown.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Error is one problem in a profile: where it is, which field, and what to do about it.
type Error struct {
	Pos   Pos
	Field string // dotted path of the offending key, e.g. "network.allow[2]"; may be empty
	Msg   string // what is wrong and what to write instead
}

func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one or more profiles, in file and line order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Sort orders the list by file, line and column.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// maxErrors bounds how many problems one file reports, so a garbage file stays readable.
const maxErrors = 50

// errs collects the problems of one decoding pass.
type errs struct {
	file string
	list ErrorList
}

func (e *errs) add(pos Pos, field, format string, args ...any) {
	if len(e.list) >= maxErrors {
		return
	}
	if pos.File == "" {
		pos.File = e.file
	}
	e.list = append(e.list, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound is returned when no profile has the requested name.
	ErrNotFound = errors.New("profile not found")
)
