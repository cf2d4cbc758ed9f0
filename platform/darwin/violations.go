package darwin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/agentrun/agentrun/events"
	"github.com/agentrun/agentrun/profiles"
)

// The sandbox reports what it denies (and, in audit mode, what the profile allows "with
// report") to the unified log, as the kernel (process ID 0, sender Sandbox), one message per
// report:
//
//	Sandbox: node(1234) deny(1) file-read-data /Users/a/.ssh/id_rsa
//	3 duplicate reports for Sandbox: node(1234) deny(1) file-read-data /Users/a/.ssh/id_rsa
//
// followed by the rule's (with message "…") text, which for agentrun's profiles begins with
// the run's tag. `log stream --style ndjson` writes each entry as one JSON object per line
// with the fields of the OSLog entry (log(1), "--style ndjson"; the field names as Apple's
// `log` prints them: timestamp, processID, processImagePath, senderImagePath, subsystem,
// category, eventType, eventMessage, …), preceded by a plain-text "Filtering the log data
// using …" line and, from `log show`, ended by {"count":N,"finished":1}.

// logEntry is the part of one NDJSON log entry agentrun reads.
type logEntry struct {
	Timestamp        string `json:"timestamp"`
	ProcessID        *int   `json:"processID"`
	ProcessImagePath string `json:"processImagePath"`
	EventType        string `json:"eventType"`
	EventMessage     string `json:"eventMessage"`
}

// logTimeLayout is the timestamp of an NDJSON entry: "2024-05-01 10:21:33.123456+0200".
const logTimeLayout = "2006-01-02 15:04:05.000000-0700"

// Violation is one sandbox report of the run.
type Violation struct {
	Time      time.Time
	Process   string // the process's name as the kernel knows it (at most the first 16 or 32 bytes)
	PID       int
	Allowed   bool   // allow(…) with report (audit mode), not deny(…)
	Operation string // the SBPL operation: file-read-data, process-exec, network-outbound, …
	Target    string // a path, an address or a service name, as the report gives it
	Rule      string // the text after the run's tag in the rule's message, if any
	Count     int    // 1, or 1 + the duplicates the kernel folded into one report
}

var (
	reportRe    = regexp.MustCompile(`^Sandbox: (.+)\((\d+)\) (deny|allow)\(\d+\) (\S+)(?: (.*))?$`)
	duplicateRe = regexp.MustCompile(`^(\d+) duplicate reports? for `)
)

// parseLine reads one line of `log stream --style ndjson` and returns the sandbox report in
// it that carries tag. Entries from any process but the kernel are ignored, so that nothing
// the agent writes to the log (os_log, logger) can pass for a report.
func parseLine(line []byte, tag string) (Violation, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Violation{}, false
	}
	var e logEntry
	if err := json.Unmarshal(line, &e); err != nil || e.ProcessID == nil || *e.ProcessID != 0 {
		return Violation{}, false
	}
	i := strings.LastIndex(e.EventMessage, tag)
	if tag == "" || i < 0 {
		return Violation{}, false
	}
	report := strings.TrimSpace(e.EventMessage[:i])
	rule := strings.TrimLeft(e.EventMessage[i+len(tag):], ":/ ")
	if j := strings.IndexAny(rule, " \t\r\n"); j >= 0 {
		rule = rule[:j]
	}
	v := Violation{Rule: rule, Count: 1}
	if m := duplicateRe.FindStringSubmatch(report); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return Violation{}, false
		}
		v.Count += n
		report = report[len(m[0]):]
	}
	m := reportRe.FindStringSubmatch(report)
	if m == nil {
		return Violation{}, false
	}
	v.PID, _ = strconv.Atoi(m[2])
	v.Process, v.Allowed, v.Operation, v.Target = m[1], m[3] == "allow", m[4], m[5]
	if t, err := time.Parse(logTimeLayout, e.Timestamp); err == nil {
		v.Time = t
	}
	return v, true
}

// judge turns violations into events for one policy.
type judge struct {
	pol *profiles.Policy
	// ruleOf names the policy rule a rule message stands for, when the profile tags its
	// rules; nil or "" falls back to judging the path against the policy.
	ruleOf func(string) string
}

// event is the event a violation stands for; false for operations agentrun has no event
// kind for (mach-lookup, sysctl, iokit, signals, IPC): those stay in the unified log.
func (j judge) event(v Violation) (events.Event, bool) {
	e := events.Event{Time: v.Time, Process: fmt.Sprintf("%s (pid %d)", v.Process, v.PID), Verdict: events.Denied}
	if v.Allowed {
		// Audit mode's profile allows with report exactly what enforce mode denies.
		e.Verdict = events.WouldDeny
	}
	op := v.Operation
	var access profiles.Access
	switch {
	case strings.HasPrefix(op, "file-read"):
		e.Kind, e.Op, e.Path, access = events.KindFile, "read", v.Target, profiles.AccessRead
	case op == "file-write-create":
		e.Kind, e.Op, e.Path, access = events.KindFile, "create", v.Target, profiles.AccessWrite
	case op == "file-write-unlink":
		e.Kind, e.Op, e.Path, access = events.KindFile, "delete", v.Target, profiles.AccessWrite
	case op == "file-link":
		e.Kind, e.Op, e.Path, access = events.KindFile, "link", v.Target, profiles.AccessWrite
	case strings.HasPrefix(op, "file-write"):
		e.Kind, e.Op, e.Path, access = events.KindFile, "write", v.Target, profiles.AccessWrite
	case strings.HasPrefix(op, "process-exec"):
		e.Kind, e.Op, e.Path, access = events.KindExec, "exec", v.Target, profiles.AccessExec
	case strings.HasPrefix(op, "network-"):
		return j.network(e, v)
	default:
		return events.Event{}, false
	}
	if e.Path == "" || !strings.HasPrefix(e.Path, "/") {
		return events.Event{}, false
	}
	e.Rule, e.Reason = j.rule(v.Rule, e.Path, access)
	return e, true
}

// rule is the policy rule behind a report and why it refuses: the tagged rule's name when the
// profile tags rules, else the policy's own judgement of the path, tried also without the
// /private prefix macOS puts before /tmp, /var and /etc.
func (j judge) rule(tagged, path string, a profiles.Access) (rule, reason string) {
	if j.ruleOf != nil && tagged != "" {
		if r := j.ruleOf(tagged); r != "" {
			return r, "denied by the profile"
		}
	}
	if j.pol == nil {
		return "", "denied by the sandbox profile"
	}
	d := j.pol.CheckFile(path, a)
	if d.Rule == "" {
		for _, dir := range []string{"/private/tmp", "/private/var", "/private/etc"} {
			if profiles.Within(path, dir) {
				d = j.pol.CheckFile(strings.TrimPrefix(path, "/private"), a)
			}
		}
	}
	if d.Allow {
		// The policy allows it and the profile did not: a rule SBPL adds (the rename
		// guard on a protected path's parents, an always-denied socket).
		return d.Rule, "denied by the sandbox profile beyond the policy's rules"
	}
	if d.Reason == "" {
		d.Reason = "denied by the sandbox profile"
	}
	return d.Rule, d.Reason
}

// network is a network report: a unix socket path, or an address the agent tried to reach
// around agentrun's proxy ("93.184.216.34:443", "[2001:db8::1]:443", "*:443", "remote:*:53").
func (j judge) network(e events.Event, v Violation) (events.Event, bool) {
	op := strings.TrimPrefix(v.Operation, "network-")
	target := strings.TrimPrefix(strings.TrimPrefix(v.Target, "remote:"), "local:")
	if strings.HasPrefix(target, "/") {
		e.Kind, e.Path = events.KindSocket, target
		e.Op = map[string]string{"outbound": "connect", "bind": "bind"}[op]
		if e.Op == "" {
			e.Op = op
		}
		e.Rule, e.Reason = "network", "unix sockets outside the sandbox are denied unless filesystem.sockets names them"
		if v.Rule != "" && j.ruleOf != nil {
			e.Rule = j.ruleOf(v.Rule)
		}
		return e, true
	}
	e.Kind, e.Op, e.Protocol = events.KindFlow, op, "ip"
	if op == "outbound" {
		e.Op = "connect"
	}
	if k := strings.LastIndexByte(target, ':'); k >= 0 {
		if p, err := strconv.ParseUint(target[k+1:], 10, 16); err == nil {
			e.Port = uint16(p)
		}
		target = target[:k]
	}
	target = strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
	if target != "*" {
		e.Address = target
	}
	e.Rule = "network"
	if v.Rule != "" && j.ruleOf != nil {
		if r := j.ruleOf(v.Rule); r != "" {
			e.Rule = r
		}
	}
	e.Reason = "only agentrun's proxy may be reached: the connection went around it"
	return e, true
}

// maxDuplicates bounds how many events one folded report becomes.
const maxDuplicates = 1000

// follow reads `log stream --style ndjson` output from r until it ends and records each of
// the run's reports as events; ready is closed at the first line (the stream's header), when
// the stream is attached. It returns how many lines it could not use.
func follow(r io.Reader, tag string, j judge, sink events.Sink, ready chan<- struct{}) (skipped int) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			if ready != nil {
				close(ready)
			}
		}
		v, ok := parseLine(sc.Bytes(), tag)
		if !ok {
			skipped++
			continue
		}
		e, ok := j.event(v)
		if !ok {
			skipped++
			continue
		}
		for range min(v.Count, maxDuplicates) {
			sink.Record(e)
		}
	}
	if first && ready != nil {
		close(ready)
	}
	return skipped
}

// logPredicate is the `log stream --predicate` that selects the run's reports: the kernel's
// messages that carry tag (an NSPredicate; the tag is letters, digits and '-').
func logPredicate(tag string) (string, error) {
	for _, r := range tag {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", fmt.Errorf("the sandbox's message tag %q may hold only letters, digits and '-'", tag)
		}
	}
	if tag == "" {
		return "", fmt.Errorf("the sandbox's message tag is empty")
	}
	return `processID == 0 AND eventMessage CONTAINS "` + tag + `"`, nil
}
