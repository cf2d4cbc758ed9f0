package sbpl

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The static checker: what can be known of a profile without a Mac. It parses the text,
// checks every operation and filter name against the names public profiles are known to
// load with, checks that the parameters used and passed are the same set, that no home
// directory is pasted into the text, and that every regular expression passed compiles as
// POSIX ERE and is anchored.

// Sources of the names below (each loads under sandbox-exec in the project that ships it):
//
//	[codex]    openai/codex codex-rs/core/src/seatbelt_base_policy.sbpl
//	[gemini]   google-gemini/gemini-cli packages/cli/src/utils/sandbox-macos-*.sb
//	[srt]      anthropic-experimental/sandbox-runtime src/sandbox/macos-sandbox-utils.ts
//	[chromium] chromium sandbox/policy/mac/common.sb (file-map-executable) and
//	           sandbox/mac/seatbelt_sandbox_design.md (process-exec*, param)
var knownOperations = map[string]string{
	"default":              "codex gemini srt",
	"process-fork":         "codex gemini srt",
	"process-exec*":        "chromium",
	"process-info*":        "codex srt",
	"signal":               "codex gemini srt",
	"sysctl-read":          "codex gemini srt",
	"sysctl-write":         "codex srt",
	"mach-lookup":          "codex gemini srt",
	"mach-host*":           "codex",
	"iokit-open":           "codex srt",
	"iokit-get-properties": "srt",
	"ipc-posix-sem":        "codex srt",
	"ipc-posix-shm":        "srt",
	"user-preference-read": "codex srt",
	"pseudo-tty":           "codex srt",
	"file-read*":           "codex gemini srt",
	"file-read-metadata":   "gemini srt",
	"file-write*":          "codex gemini srt",
	"file-write-data":      "codex srt",
	"file-write-unlink":    "srt",
	"file-ioctl":           "codex gemini srt",
	"file-map-executable":  "chromium",
	"network-outbound":     "gemini srt",
	"network-bind":         "srt",
	"system-socket":        "srt",
}

// knownFilters are the filters and modifiers, with the number of arguments each takes
// (-1: any number of filters).
var knownFilters = map[string]int{
	"literal":                    1,  // codex gemini srt
	"subpath":                    1,  // codex gemini srt
	"regex":                      1,  // codex gemini srt
	"path-regex":                 1,  // srt, inside (remote unix-socket …)
	"global-name":                1,  // codex gemini srt
	"sysctl-name":                1,  // codex gemini srt
	"sysctl-name-prefix":         1,  // codex srt
	"iokit-registry-entry-class": 1,  // codex srt
	"target":                     1,  // codex srt: same-sandbox
	"vnode-type":                 1,  // codex srt: CHARACTER-DEVICE, DIRECTORY
	"extension":                  1,  // codex: com.apple.sandbox.pty
	"socket-domain":              1,  // srt: AF_UNIX
	"require-all":                -1, // codex srt
	"require-not":                1,  // chromium's profiles; public profiles generated with -D parameters
	"remote":                     2,  // gemini srt: (remote ip "localhost:PORT"), (remote unix-socket FILTER)
	"local":                      2,  // srt: (local unix-socket FILTER)
	"with":                       -2, // srt: (with message STRING); chromium, Apple's profiles: (with report)
}

// knownAtoms are the symbols a filter may take as its argument.
var knownAtoms = map[string]bool{
	"same-sandbox": true, "CHARACTER-DEVICE": true, "DIRECTORY": true, "SYMLINK": true,
	"AF_UNIX": true, "ip": true, "unix-socket": true, "report": true, "message": true,
}

// checkProfile runs the static checker on a compiled profile.
func checkProfile(t *testing.T, name string, p *Profile) {
	t.Helper()
	for _, e := range staticCheck(p) {
		t.Errorf("%s: %s", name, e)
	}
}

// staticCheck returns what is wrong with a profile.
func staticCheck(p *Profile) []string {
	var errs []string
	errorf := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	forms, err := readSexprs(p.Text)
	if err != nil {
		return []string{"the text does not parse: " + err.Error()}
	}
	if len(forms) < 2 || forms[0].String() != "(version 1)" {
		return []string{"the profile does not start with (version 1)"}
	}
	if d := forms[1].String(); d != `(deny default (with message (param "TAG")))` && d != `(allow default (with report) (with message (param "TAG")))` {
		errorf("the second form is %s, not the default rule", d)
	}
	c := &checker{used: map[string]bool{}, regexParams: map[string]bool{}}
	for _, f := range forms[1:] {
		c.rule(f)
	}
	errs = append(errs, c.errs...)
	passed := map[string]string{}
	for _, prm := range p.Params {
		if _, dup := passed[prm.Name]; dup {
			errorf("parameter %s passed twice", prm.Name)
		}
		passed[prm.Name] = prm.Value
		if !c.used[prm.Name] {
			errorf("parameter %s is passed and never used", prm.Name)
		}
	}
	for u := range c.used {
		if _, ok := passed[u]; !ok {
			errorf("parameter %s is used and never passed", u)
		}
	}
	for n := range c.regexParams {
		v := passed[n]
		if _, err := regexp.CompilePOSIX(v); err != nil {
			errorf("parameter %s=%s is not a POSIX ERE: %v", n, v, err)
		}
		if !strings.HasPrefix(v, "^") || !strings.HasSuffix(v, "$") {
			errorf("parameter %s=%s is not anchored at both ends", n, v)
		}
	}
	for _, home := range []string{"/home/", "/Users/"} {
		if strings.Contains(p.Text, home) {
			errorf("the text holds a home directory (%s); it belongs in a parameter", home)
		}
	}
	return errs
}

type checker struct {
	used        map[string]bool
	regexParams map[string]bool
	errs        []string
}

func (c *checker) errorf(e *sexpr, format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf("line %d: %s: %s", e.line, e, fmt.Sprintf(format, args...)))
}

// rule checks one top-level (allow|deny OPERATION… FILTER…).
func (c *checker) rule(f *sexpr) {
	if h := f.head(); h != "allow" && h != "deny" {
		c.errorf(f, "a top-level form that is not allow or deny")
		return
	}
	ops := 0
	for _, e := range f.list[1:] {
		switch e.kind {
		case 'a':
			if _, ok := knownOperations[e.atom]; !ok {
				c.errorf(e, "unknown operation %s", e.atom)
			}
			if e.atom == "default" && f.list[0].atom == "deny" && ops > 0 {
				c.errorf(f, "default among other operations")
			}
			ops++
		case '(':
			c.filter(e)
		default:
			c.errorf(e, "a string where an operation or a filter belongs")
		}
	}
	if ops == 0 {
		c.errorf(f, "a rule without an operation")
	}
}

// filter checks one filter or modifier and what it holds.
func (c *checker) filter(e *sexpr) {
	h := e.head()
	n, ok := knownFilters[h]
	if !ok {
		c.errorf(e, "unknown filter %q", h)
		return
	}
	args := e.list[1:]
	switch {
	case n == -1:
		for _, a := range args {
			c.sub(a)
		}
		return
	case h == "with":
		if len(args) == 0 || args[0].kind != 'a' || !knownAtoms[args[0].atom] {
			c.errorf(e, "with takes report or message")
			return
		}
		if args[0].atom == "message" {
			if len(args) != 2 {
				c.errorf(e, "with message takes one value")
				return
			}
			c.value(args[1], false)
		}
		return
	case len(args) != n:
		c.errorf(e, "%s takes %d arguments, has %d", h, n, len(args))
		return
	}
	switch h {
	case "remote", "local":
		if args[0].kind != 'a' || !knownAtoms[args[0].atom] {
			c.errorf(e, "unknown address kind")
			return
		}
		if args[0].atom == "ip" {
			if args[1].kind != 's' || !regexp.MustCompile(`^localhost:[0-9]+$`).MatchString(args[1].str) {
				c.errorf(e, "an address other than localhost:PORT")
			}
			return
		}
		c.sub(args[1])
	case "require-not":
		c.sub(args[0])
	case "regex", "path-regex":
		c.value(args[0], true)
	case "target", "vnode-type", "socket-domain":
		if args[0].kind != 'a' || !knownAtoms[args[0].atom] {
			c.errorf(e, "unknown value")
		}
	default:
		c.value(args[0], false)
	}
}

// sub checks a filter nested in another.
func (c *checker) sub(e *sexpr) {
	if e.kind != '(' {
		c.errorf(e, "a value where a filter belongs")
		return
	}
	c.filter(e)
}

// value checks a filter's argument: a string, a regex literal or (param "NAME").
func (c *checker) value(e *sexpr, isRegex bool) {
	switch {
	case e.kind == 's' || e.kind == 'r' && isRegex:
		if isRegex {
			if _, err := regexp.CompilePOSIX(e.str); err != nil {
				c.errorf(e, "not a POSIX ERE: %v", err)
			}
		}
	case e.head() == "param" && len(e.list) == 2 && e.list[1].kind == 's':
		c.used[e.list[1].str] = true
		if isRegex {
			c.regexParams[e.list[1].str] = true
		}
	default:
		c.errorf(e, "a value that is neither a string nor (param \"NAME\")")
	}
}

// TestChecker: the checker finds each kind of fault it is there for.
func TestChecker(t *testing.T) {
	good := func() *Profile {
		return &Profile{Text: "(version 1)\n(deny default (with message (param \"TAG\")))\n(allow file-read* (regex (param \"R\")))\n",
			Params: []Param{{"TAG", "t"}, {"R", "^/a(/.*)?$"}}}
	}
	if errs := staticCheck(good()); len(errs) != 0 {
		t.Fatalf("a good profile fails the checker: %v", errs)
	}
	for _, tc := range []struct {
		name string
		edit func(p *Profile)
		want string
	}{
		{"unbalanced", func(p *Profile) { p.Text += "(allow file-read*" }, "does not parse"},
		{"unknown operation", func(p *Profile) { p.Text += "(allow file-reed*)\n" }, "unknown operation"},
		{"unknown filter", func(p *Profile) { p.Text += "(allow file-read* (sub-path \"/x\"))\n" }, "unknown filter"},
		{"param not passed", func(p *Profile) { p.Text += "(allow file-read* (subpath (param \"X\")))\n" }, "used and never passed"},
		{"param not used", func(p *Profile) { p.Params = append(p.Params, Param{"Y", "/y"}) }, "passed and never used"},
		{"home in text", func(p *Profile) { p.Text += "(allow file-read* (subpath \"/Users/me\"))\n" }, "home directory"},
		{"regex not anchored", func(p *Profile) { p.Params[1].Value = "/a.*" }, "not anchored"},
		{"regex not ERE", func(p *Profile) { p.Params[1].Value = "^/a(?:b)$" }, "not a POSIX ERE"},
		{"network beyond localhost", func(p *Profile) { p.Text += "(allow network-outbound (remote ip \"*:443\"))\n" }, "other than localhost"},
	} {
		p := good()
		tc.edit(p)
		errs := staticCheck(p)
		if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s: the checker says %v, not %q", tc.name, errs, tc.want)
		}
	}
}
