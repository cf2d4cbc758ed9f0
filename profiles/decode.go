package profiles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a profile file; real profiles are a few kilobytes.
const MaxFileSize = 1 << 20

// Parse decodes one profile file strictly. name is used in error positions (a path, or
// "builtin/NAME.yaml"). The returned error, if any, is an ErrorList. Parse never panics.
func Parse(name string, data []byte) (*File, error) { return parse(name, data, true) }

// parse is Parse, with or without the validation (see decodedBuiltin).
func parse(name string, data []byte, validate bool) (f *File, err error) {
	e := &errs{file: name}
	defer func() {
		// The YAML library is not ours; a panic in it must not take agentrun down.
		if r := recover(); r != nil {
			f = nil
			err = ErrorList{{Pos: Pos{File: name, Line: 1, Col: 1}, Msg: fmt.Sprintf("cannot parse YAML (%v)", r)}}
		}
	}()
	if len(data) > MaxFileSize {
		e.add(Pos{Line: 1, Col: 1}, "", "file is %d bytes; a profile is at most %d bytes", len(data), MaxFileSize)
		return nil, e.list.Err()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			e.add(Pos{Line: 1, Col: 1}, "", "%s; a profile needs at least \"name: NAME\"", emptyWhat(data))
			return nil, e.list.Err()
		}
		e.list = append(e.list, syntaxError(name, data, err))
		return nil, e.list.Err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		e.add(nodePos(&extra), "", "a profile file holds one YAML document; remove the \"---\" and what follows, or split it into two files")
		return nil, e.list.Err()
	} else if !errors.Is(err, io.EOF) {
		e.list = append(e.list, syntaxError(name, data, err))
		return nil, e.list.Err()
	}
	f = &File{Source: name}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		e.add(Pos{Line: 1, Col: 1}, "", "%s; a profile needs at least \"name: NAME\"", emptyWhat(data))
		return nil, e.list.Err()
	}
	d := decoder{errs: e}
	d.value(root, "", reflect.ValueOf(f).Elem())
	if len(e.list) == 0 && validate {
		validateFile(f, e)
	}
	if err := e.list.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// decodedBuiltin is a built-in profile decoded when agentrun was built (builtin_decoded.go,
// written by TestBuiltinDecoded), so that a launch does not parse its YAML: sum is the
// SHA-256 of the YAML it was decoded from, file makes the File as the decoder makes it, before
// validation.
type decodedBuiltin struct {
	sum  string
	file func() *File
}

// parseBuiltin is Parse for the built-in profile name with contents data: from
// decodedBuiltins when they were made from these very bytes, else parsed. A decoded profile
// passed every check when it was decoded, so only the checks whose findings the merge reads
// run again (learningChecks).
func parseBuiltin(name, source string, data []byte) (*File, error) {
	d, ok := decodedBuiltins[name]
	if !ok || d.sum != builtinSum(data) {
		return Parse(source, data)
	}
	f := d.file()
	e := &errs{file: source}
	runChecks(f, e, learningChecks)
	if err := e.list.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// builtinSum is the hex SHA-256 of a built-in profile's YAML.
func builtinSum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// emptyWhat says why a file with no YAML content holds no profile.
func emptyWhat(data []byte) string {
	if len(bytes.TrimSpace(data)) > 0 {
		return "file holds no settings, only comments"
	}
	return "file is empty"
}

var yamlLineRE = LazyRegexp(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxHints say in plain words what the YAML library's common complaints mean.
var syntaxHints = []struct{ problem, hint string }{
	{"did not find expected ',' or ']'", "a [ list is not closed, or holds a value that needs quotes; end the list with ] and quote values with characters such as ? : # or ,"},
	{"did not find expected ',' or '}'", "a { mapping is not closed; end it with }"},
	{"did not find expected key", "this line is not indented like the keys above it; line it up with them"},
	{"did not find expected '-' indicator", "this line is not indented like the list items above it; line it up with them"},
	{"mapping values are not allowed in this context", "a value contains \": \"; put the value in quotes, or check the indentation"},
	{"could not find expected ':'", "a key is missing its \":\"; write key: value"},
	{"found unexpected end of stream", "a quoted value is not closed; end it with the same quote it starts with"},
	{"found character that cannot start any token", "a value starts with a character YAML reserves (such as @ or `); put the value in quotes"},
	{"UTF-8 octet", "the file is not UTF-8 text here (a character saved in another encoding, such as Latin-1 or Windows-1252); save the file as UTF-8"},
}

// syntaxError turns a YAML library error into an Error with a position. The library reports a
// line only, and often the line where the enclosing block starts rather than the one at fault,
// so the line is found again by parsing ever longer beginnings of the file until one fails the
// same way. The column is that of the line's first non-blank character, or of the tab or
// bracket at fault.
func syntaxError(name string, data []byte, err error) *Error {
	msg := err.Error()
	pos := Pos{File: name, Line: 1, Col: 1}
	problem := strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		problem = m[2]
		if pos.Line == 0 {
			pos.Line = 1
		}
	}
	if l := failingLine(data, msg); l != 0 {
		pos.Line = l
	}
	line := lineOf(data, pos.Line)
	pos.Col = firstColumn(data, pos.Line)
	hint := "check the indentation and quoting around it"
	for _, h := range syntaxHints {
		if strings.Contains(problem, h.problem) {
			hint = h.hint
			break
		}
	}
	switch {
	case strings.Contains(problem, "found character that cannot start any token") && bytes.ContainsRune(line, '\t'):
		hint = "YAML does not allow tabs for indentation; indent with spaces"
		pos.Col = bytes.IndexByte(line, '\t') + 1
	case strings.Contains(problem, "expected ',' or ']'") && bytes.Contains(line, []byte("[")):
		pos.Col = bytes.LastIndexByte(line, '[') + 1
	case strings.Contains(problem, "expected ',' or '}'") && bytes.Contains(line, []byte("{")):
		pos.Col = bytes.LastIndexByte(line, '{') + 1
	case strings.Contains(problem, "mapping values are not allowed") && bytes.Contains(line, []byte(": ")):
		i := bytes.Index(line, []byte(": ")) + 1
		for i < len(line) && line[i] == ' ' {
			i++
		}
		pos.Col = i + 1
	case strings.Contains(problem, "UTF-8 octet") && !utf8.Valid(line):
		pos.Col = invalidUTF8Column(line)
	case strings.Contains(problem, "unexpected end of stream") && bytes.ContainsAny(line, "\"'"):
		pos.Col = bytes.IndexAny(line, "\"'") + 1
	}
	return &Error{Pos: pos, Msg: fmt.Sprintf("invalid YAML: %s; %s", problem, hint)}
}

// failingLine returns the first line n such that the file's first n lines fail to parse with
// exactly the error msg, or 0 when there is none or finding it would take too long.
func failingLine(data []byte, msg string) int {
	end, budget := 0, 4<<20 // bytes parsed in all; a real profile of a few kilobytes needs far less
	for n := 1; end < len(data); n++ {
		if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(data)
		}
		if budget -= end; budget < 0 {
			return 0
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data[:end], &doc); err != nil && err.Error() == msg {
			return n
		}
	}
	return 0
}

func lineOf(data []byte, line int) []byte {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return nil
	}
	return lines[line-1]
}

func firstColumn(data []byte, line int) int {
	l := lineOf(data, line)
	for i, c := range l {
		if c != ' ' && c != '\t' {
			return i + 1
		}
	}
	return 1
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// decoder fills the File types from a YAML node tree by their yaml tags.
type decoder struct{ *errs }

var (
	scalarType   = reflect.TypeOf(Scalar{})
	networkType  = reflect.TypeOf(NetworkSection{})
	envVarsType  = reflect.TypeOf([]EnvVar(nil))
	kindNames    = map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}
	tagTypeNames = map[string]string{"!!str": "a string", "!!int": "an integer", "!!float": "a number", "!!bool": "a boolean", "!!null": "empty", "!!timestamp": "a timestamp", "!!binary": "binary data"}
)

// describe says what a node is, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if s, ok := tagTypeNames[n.ShortTag()]; ok {
			return s
		}
	}
	if s, ok := kindNames[n.Kind]; ok {
		return s
	}
	return "something else"
}

// plain rejects YAML features that profiles do not use: aliases, anchors, merge keys and tags.
func (d decoder) plain(n *yaml.Node, field string) bool {
	switch {
	case n.Kind == yaml.AliasNode:
		d.add(nodePos(n), field, "aliases (*%s) are not supported in profiles; use extends to share rules between profiles", n.Value)
		return false
	case n.Anchor != "":
		d.add(nodePos(n), field, "anchors (&%s) are not supported in profiles; use extends to share rules between profiles", n.Anchor)
		return false
	case n.Tag == "!!merge" || (n.Kind == yaml.ScalarNode && n.Value == "<<" && n.Style == 0):
		d.add(nodePos(n), field, "merge keys (<<) are not supported in profiles; use extends to share rules between profiles")
		return false
	case n.Style&yaml.TaggedStyle != 0 && !strings.HasPrefix(n.Tag, "!!"):
		d.add(nodePos(n), field, "custom tags (%s) are not supported in profiles; remove the tag", n.Tag)
		return false
	}
	return true
}

func (d decoder) value(n *yaml.Node, field string, v reflect.Value) {
	if !d.plain(n, field) {
		return
	}
	t := v.Type()
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && t != scalarType {
		if t.Kind() == reflect.Slice {
			d.add(nodePos(n), field, "has no value; write the list, [] for an empty list, or remove the key")
		} else {
			d.add(nodePos(n), field, "has no value; write its keys indented below it, or remove the key")
		}
		return
	}
	switch {
	case t == scalarType:
		d.scalar(n, field, v)
	case t == envVarsType:
		d.envVars(n, field, v)
	case t.Kind() == reflect.Slice:
		d.list(n, field, v)
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		if t.Elem() == networkType && n.Kind == yaml.ScalarNode {
			d.networkScalar(n, field, p.Interface().(*NetworkSection))
		} else {
			d.mapping(n, field, p.Elem())
		}
		v.Set(p)
	default:
		d.mapping(n, field, v)
	}
}

func (d decoder) scalar(n *yaml.Node, field string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		example := "VALUE"
		if n.Kind == yaml.SequenceNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.ScalarNode {
			example = n.Content[0].Value
		}
		d.add(nodePos(n), field, "must be a single value, not %s; write %s: %s", describe(n), lastKey(field), example)
		return
	}
	if n.ShortTag() == "!!null" {
		isPath := strings.HasPrefix(field, "filesystem.") || strings.HasPrefix(field, "exec.")
		switch {
		case n.Value == "~" && isPath:
			d.add(nodePos(n), field, "a bare ~ means \"no value\" in YAML; for the home directory write \"~\" in quotes")
		case strings.HasSuffix(field, "]"):
			d.add(nodePos(n), field, "list item has no value; write one, or remove the item")
		default:
			d.add(nodePos(n), field, "has no value; write one, or remove the key")
		}
		return
	}
	v.Set(reflect.ValueOf(d.newScalar(n)))
}

func (d decoder) list(n *yaml.Node, field string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		example := "[a, b]"
		if n.Kind == yaml.ScalarNode {
			example = "[" + n.Value + "]"
		}
		d.add(nodePos(n), field, "must be a list, not %s; write %s", describe(n), example)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, fmt.Sprintf("%s[%d]", field, i), s.Index(i))
	}
	v.Set(s)
}

// mapping decodes a YAML mapping into a struct by its yaml tags, rejecting unknown and
// repeated keys.
func (d decoder) mapping(n *yaml.Node, field string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		what := "the profile"
		if field != "" {
			what = field
		}
		d.add(nodePos(n), field, "%s must be a mapping of keys (%s), not %s", what, strings.Join(yamlKeys(v.Type()), ", "), describe(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.plain(k, field) {
			continue
		}
		sub := joinField(field, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.add(nodePos(k), sub, "appears twice (first at line %d); merge the two into one", first.Line)
			continue
		}
		seen[k.Value] = k
		fv, ok := fieldByTag(v, k.Value)
		if !ok {
			d.add(nodePos(k), sub, "unknown key%s; known keys here: %s", suggest(k.Value, yamlKeys(v.Type())), strings.Join(yamlKeys(v.Type()), ", "))
			continue
		}
		d.value(atKeyIfEmpty(val, k), sub, fv)
	}
}

// atKeyIfEmpty gives an empty value ("key:" with nothing after it) the position of its key,
// so the error points at text the user wrote rather than past the end of the line.
func atKeyIfEmpty(val, key *yaml.Node) *yaml.Node {
	if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" && val.Value == "" {
		c := *val
		c.Line, c.Column = key.Line, key.Column
		return &c
	}
	return val
}

// lastKey is the last key of a dotted field, e.g. "memory" for "resources.memory".
func lastKey(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}

func (d decoder) networkScalar(n *yaml.Node, field string, ns *NetworkSection) {
	if n.ShortTag() == "!!str" && n.Value == "none" {
		ns.None, ns.NonePos = true, Pos{File: d.file, Line: n.Line, Col: n.Column}
		return
	}
	d.add(nodePos(n), field, "%q is not a network setting; write \"network: none\" for no network, or list hosts under network.allow, e.g. allow: [api.example.com:443]", n.Value)
}

func (d decoder) envVars(n *yaml.Node, field string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.add(nodePos(n), field, "must be a mapping of NAME: value lines, such as GIT_TERMINAL_PROMPT: \"0\", not %s", describe(n))
		return
	}
	var vars []EnvVar
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinField(field, k.Value)
		if !d.plain(k, field) || !d.plain(val, sub) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(nodePos(k), field, "variable names must be plain words, not %s", describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.add(nodePos(k), sub, "appears twice (first at line %d); keep one", line)
			continue
		}
		seen[k.Value] = k.Line
		if val.Kind != yaml.ScalarNode {
			d.add(nodePos(val), sub, "must be a single value, not %s", describe(val))
			continue
		}
		if val.ShortTag() == "!!null" {
			d.add(nodePos(atKeyIfEmpty(val, k)), sub, "has no value; write %s: \"\" for an empty value", k.Value)
			continue
		}
		// Environment values are text: take the value as written, so FOO: 1 means "1".
		vars = append(vars, EnvVar{Name: d.newScalar(k), Value: d.newScalar(val)})
	}
	v.Set(reflect.ValueOf(vars))
}

func (d decoder) newScalar(n *yaml.Node) Scalar {
	return Scalar{Value: n.Value, Pos: Pos{File: d.file, Line: n.Line, Col: n.Column}, Set: true, Tag: n.ShortTag()}
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func fieldByTag(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag == key && tag != "-" {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// yamlKeys lists the keys a struct type accepts, in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// suggest returns ` (did you mean "x"?)` for a close known key, or "".
func suggest(got string, known []string) string {
	best, bestDist := "", 3
	lower := strings.ToLower(got)
	for _, k := range known {
		if dist := editDistance(lower, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	for _, k := range known {
		// "networking" for "network", "env_pass" for "env": a known key with a suffix.
		if best == "" && len(k) >= 3 && strings.HasPrefix(lower, k) {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// invalidUTF8Column is the column (in characters, from 1) of line's first byte that is not
// part of valid UTF-8.
func invalidUTF8Column(line []byte) int {
	col := 1
	for len(line) > 0 {
		r, size := utf8.DecodeRune(line)
		if r == utf8.RuneError && size <= 1 {
			return col
		}
		line = line[size:]
		col++
	}
	return col
}
