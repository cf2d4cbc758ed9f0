package launcher

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// gitEntry is one key of a git config file, with the lines it spans.
type gitEntry struct {
	Section    string // lower case
	Subsection string // as written (case matters), "" for none
	Name       string // lower case
	Value      string // unquoted, escapes applied; "" for a bare boolean key
	Bare       bool   // written without "=": boolean true
	First      int    // first line, 0-based
	Last       int    // last line (continuations included)
	HeaderEnd  int    // >0: the entry shares its first line with a section header ending at this byte column
}

// Key is section[.subsection].name, as git config --list prints it.
func (e gitEntry) Key() string {
	if e.Subsection != "" {
		return e.Section + "." + e.Subsection + "." + e.Name
	}
	return e.Section + "." + e.Name
}

// parseGitConfig reads git-config syntax (git-config(1) "Syntax"): sections with quoted or
// dotted subsections, keys with optional values, quotes, escapes, line continuations and
// comments. Anything it does not understand is an error, so a caller can treat the file as
// suspect rather than guess as git might.
func parseGitConfig(src []byte) ([]gitEntry, error) {
	p := &gitParser{src: bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))}
	return p.parse()
}

type gitParser struct {
	src        []byte
	i, line    int
	lineStart  int
	section    string
	subsection string
	hasSection bool
}

func (p *gitParser) peek() int {
	if p.i >= len(p.src) {
		return -1
	}
	return int(p.src[p.i])
}

func (p *gitParser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line+1, fmt.Sprintf(format, args...))
}

func (p *gitParser) newline() {
	p.line++
	p.lineStart = p.i
}

func (p *gitParser) parse() ([]gitEntry, error) {
	var out []gitEntry
	headerEnd, headerLine := 0, -1
	for {
		c := p.peek()
		switch {
		case c < 0:
			return out, nil
		case c == '\n':
			p.i++
			p.newline()
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			p.i++
		case c == '#' || c == ';':
			for p.peek() >= 0 && p.peek() != '\n' {
				p.i++
			}
		case c == '[':
			if err := p.header(); err != nil {
				return nil, err
			}
			headerEnd, headerLine = p.i-p.lineStart, p.line
		case isAlpha(c):
			if !p.hasSection {
				return nil, p.errorf("a key before any section")
			}
			e, err := p.entry()
			if err != nil {
				return nil, err
			}
			if e.First == headerLine {
				e.HeaderEnd = headerEnd
			}
			out = append(out, e)
		default:
			return nil, p.errorf("unexpected %q", rune(c))
		}
	}
}

// header reads [section], [section "subsection"] or the old [section.subsection].
func (p *gitParser) header() error {
	p.i++ // [
	start := p.i
	for c := p.peek(); c >= 0 && (isAlnum(c) || c == '-' || c == '.'); c = p.peek() {
		p.i++
	}
	name := string(p.src[start:p.i])
	if name == "" {
		return p.errorf("empty section name")
	}
	sub := ""
	switch c := p.peek(); {
	case c == ']':
		p.i++
		if dot := strings.IndexByte(name, '.'); dot >= 0 {
			// [section.subsection]: the subsection is lower-cased (deprecated syntax).
			name, sub = name[:dot], strings.ToLower(name[dot+1:])
		}
	case c == ' ' || c == '\t':
		for p.peek() == ' ' || p.peek() == '\t' {
			p.i++
		}
		if p.peek() != '"' {
			return p.errorf("a subsection must be quoted")
		}
		p.i++
		var b strings.Builder
		for {
			c := p.peek()
			switch {
			case c < 0 || c == '\n':
				return p.errorf("unterminated subsection")
			case c == '\\':
				p.i++
				c = p.peek()
				if c < 0 || c == '\n' {
					return p.errorf("unterminated subsection")
				}
				b.WriteByte(byte(c))
				p.i++
				continue
			case c == '"':
				p.i++
			default:
				b.WriteByte(byte(c))
				p.i++
				continue
			}
			break
		}
		if p.peek() != ']' {
			return p.errorf("expected ] after the subsection")
		}
		p.i++
		sub = b.String()
		if sub == "" {
			return p.errorf("empty subsection")
		}
	default:
		return p.errorf("bad section header")
	}
	p.section, p.subsection, p.hasSection = strings.ToLower(name), sub, true
	return nil
}

// entry reads name [= value].
func (p *gitParser) entry() (gitEntry, error) {
	e := gitEntry{Section: p.section, Subsection: p.subsection, First: p.line}
	start := p.i
	for c := p.peek(); c >= 0 && (isAlnum(c) || c == '-'); c = p.peek() {
		p.i++
	}
	e.Name = strings.ToLower(string(p.src[start:p.i]))
	for p.peek() == ' ' || p.peek() == '\t' {
		p.i++
	}
	switch c := p.peek(); {
	case c < 0 || c == '\n' || c == '\r' || c == '#' || c == ';':
		e.Bare = true
		e.Last = p.line
		return e, nil
	case c == '=':
		p.i++
	default:
		return e, p.errorf("expected = after %q", e.Name)
	}
	v, err := p.value()
	if err != nil {
		return e, err
	}
	e.Value, e.Last = v, p.line
	return e, nil
}

// value reads a value up to the end of its (last continued) line, leaving the newline.
func (p *gitParser) value() (string, error) {
	var b strings.Builder
	quoted := false
	pendingSpace := 0 // whitespace outside quotes is kept only between words
	seen := false
	for {
		c := p.peek()
		switch {
		case c < 0 || c == '\n':
			if quoted {
				return "", p.errorf("unterminated quote")
			}
			return b.String(), nil
		case !quoted && (c == '#' || c == ';'):
			for p.peek() >= 0 && p.peek() != '\n' {
				p.i++
			}
			continue
		case !quoted && (c == ' ' || c == '\t' || c == '\r'):
			if seen {
				pendingSpace++
			}
			p.i++
			continue
		}
		if pendingSpace > 0 {
			b.WriteString(strings.Repeat(" ", pendingSpace))
			pendingSpace = 0
		}
		switch c {
		case '"':
			quoted = !quoted
			seen = true
			p.i++
		case '\\':
			p.i++
			n := p.peek()
			switch n {
			case '\n':
				p.i++
				p.newline()
				continue
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case '\\', '"':
				b.WriteByte(byte(n))
			default:
				return "", p.errorf("bad escape in value")
			}
			seen = true
			p.i++
		default:
			b.WriteByte(byte(c))
			seen = true
			p.i++
		}
	}
}

func isAlpha(c int) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c int) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// gitBool reports whether v is one of git's boolean spellings.
func gitBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "false", "yes", "no", "on", "off", "0", "1":
		return true
	}
	return false
}

// gitProgramKey says why a config entry makes git run a program (or read more config, or
// leave the repository), and "" when it does not. gitdir is the repository's directory
// relative to the workspace, for core.worktree.
func gitProgramKey(e gitEntry, gitdir string) string {
	sub := e.Subsection != ""
	switch e.Section + "." + e.Name {
	case "core.fsmonitor":
		if gitBool(e.Value) {
			return "" // true: git's own daemon
		}
		return "runs a program on every status"
	case "core.hookspath":
		return "moves the hooks where the agent wrote them"
	case "core.sshcommand", "core.pager", "core.editor", "core.askpass", "core.gitproxy",
		"core.alternaterefscommand", "diff.external", "sequence.editor", "gpg.program",
		"uploadpack.packobjectshook", "imap.tunnel", "sendemail.sendmailcmd", "sendemail.tocmd",
		"sendemail.cccmd", "sendemail.smtpserver", "interactive.difffilter", "web.browser":
		if !sub {
			return "runs a program"
		}
	case "core.worktree":
		if !sub && outsideTree(gitdir, e.Value) {
			return "points the work tree outside the workspace"
		}
	case "include.path":
		return "includes another file"
	case "protocol.allow":
		return "allows every transport, ext:: (a program) among them"
	}
	switch {
	case !sub && e.Section == "pager" && !gitBool(e.Value):
		return "runs a program as pager"
	case !sub && e.Section == "alias" && strings.HasPrefix(strings.TrimSpace(e.Value), "!"):
		return "an alias that runs a shell command"
	case sub && e.Section == "includeif" && e.Name == "path":
		return "includes another file"
	case sub && e.Section == "diff" && (e.Name == "textconv" || e.Name == "command"):
		return "runs a program on diff"
	case sub && e.Section == "merge" && e.Name == "driver":
		return "runs a program on merge"
	case sub && e.Section == "filter" && (e.Name == "clean" || e.Name == "smudge" || e.Name == "process"):
		return "runs a program on checkout or add"
	case e.Section == "credential" && e.Name == "helper":
		return "runs a program for credentials"
	case sub && e.Section == "gpg" && (e.Name == "program" || e.Name == "defaultkeycommand"):
		return "runs a program to sign"
	case sub && (e.Section == "difftool" || e.Section == "mergetool" || e.Section == "browser" ||
		e.Section == "man" || e.Section == "guitool") && (e.Name == "cmd" || e.Name == "path"):
		return "runs a program"
	case sub && e.Section == "hook" && e.Name == "command":
		return "a configured hook"
	case sub && e.Section == "remote" && (e.Name == "uploadpack" || e.Name == "receivepack"):
		return "runs a program on fetch or push"
	case sub && e.Section == "remote" && (e.Name == "url" || e.Name == "pushurl") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(e.Value)), "ext::"):
		return "an ext:: URL runs a program"
	case sub && e.Section == "url" && strings.HasPrefix(strings.ToLower(e.Subsection), "ext::"):
		return "rewrites URLs to ext:: (a program)"
	case sub && e.Section == "protocol" && e.Name == "allow":
		return "allows a transport that may run a program"
	case sub && e.Section == "submodule" && e.Name == "update" && strings.HasPrefix(strings.TrimSpace(e.Value), "!"):
		return "runs a shell command on submodule update"
	}
	return ""
}

// outsideTree reports whether value, a path git resolves relative to gitdir (itself
// relative to the workspace), leaves the workspace.
func outsideTree(gitdir, value string) bool {
	v := strings.TrimSpace(value)
	if v == "" {
		return false
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "~") {
		return true
	}
	c := path.Clean(path.Join(gitdir, v))
	return c == ".." || strings.HasPrefix(c, "../")
}

// cleanGitConfig returns src without the lines of the given entries (a header sharing a
// line with one stays), each replaced by a comment that names the key.
func cleanGitConfig(src []byte, drop []gitEntry) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	for _, e := range drop {
		for l := e.First; l <= e.Last && l < len(lines); l++ {
			keep := ""
			if l == e.First && e.HeaderEnd > 0 && e.HeaderEnd <= len(lines[l]) {
				keep = lines[l][:e.HeaderEnd] + "\n"
			}
			if l == e.First {
				keep += "\t# agentrun removed " + e.Section + "." + e.Name + ": it " + "can run a program (the original is beside this file)\n"
			}
			lines[l] = keep
		}
	}
	return []byte(strings.Join(lines, ""))
}
