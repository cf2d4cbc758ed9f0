package learn

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/agentrun/agentrun/profiles"
)

// ErrNetworkNone is returned by Apply, wrapped with the line, for network rules when the
// profile says "network: none". The caller drops the network rules or asks the user.
var ErrNetworkNone = errors.New(`the profile says "network: none"`)

// sectionOrder is the order Apply edits sections in.
var sectionOrder = []string{SectionRead, SectionWrite, SectionDeny, SectionProtect, SectionExec, SectionNetworkAllow, SectionNetworkUDP}

// Apply adds each rule's Entry to its section of the profile document src, and the entries
// of its Keeps to theirs (filesystem.deny, filesystem.protect), and returns the new
// document. An entry already there (in any spelling of the same path, or a host with the
// port already listed) is skipped; a new port for a host already listed joins its entry, as
// profiles require one entry per host; a path moving from filesystem.read to
// filesystem.write leaves read.
//
// The document is parsed with yaml.v3 and edited as a node tree; the edit is then written
// into the original text at the positions the parser reports, so comments, blank lines, key
// order, quoting and indentation stay as they are and a diff shows only the additions. If
// the text edit cannot reproduce the tree edit exactly (an unusual layout), the tree is
// encoded instead. When src is a valid profile, the result is checked to be one too.
func Apply(src []byte, rules []Rule) ([]byte, error) {
	plan, err := planOf(rules)
	if err != nil {
		return nil, err
	}
	if len(plan) == 0 {
		return slices.Clone(src), nil
	}
	text := string(src)
	addedNL := text != "" && !strings.HasSuffix(text, "\n")
	if addedNL {
		text += "\n"
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("reading the profile: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New(`reading the profile: it is not a YAML mapping of keys such as "name" and "filesystem"`)
	}
	a := newApplier(text, doc.Content[0])
	for _, sec := range []string{"filesystem", "exec", "network"} {
		var lists []string
		for _, s := range sectionOrder {
			if strings.HasPrefix(s, sec+".") && len(plan[s]) > 0 {
				lists = append(lists, s)
			}
		}
		if len(lists) == 0 {
			continue
		}
		if err := a.add(sec, lists, plan); err != nil {
			return nil, err
		}
	}
	out, ok := a.result()
	if ok {
		var got, want any
		ok = yaml.Unmarshal([]byte(out), &got) == nil && doc.Decode(&want) == nil && reflect.DeepEqual(got, want)
	}
	if ok && addedNL {
		out = strings.TrimSuffix(out, "\n")
	}
	if !ok {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(a.unit)
		if err := enc.Encode(&doc); err != nil {
			return nil, fmt.Errorf("writing the profile: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("writing the profile: %w", err)
		}
		out = buf.String()
	}
	if _, err := profiles.Parse("profile", src); err == nil {
		if _, err := profiles.Parse("profile", []byte(out)); err != nil {
			return nil, fmt.Errorf("the profile with the learned rules would not load: %w", err)
		}
	}
	return []byte(out), nil
}

// planOf groups the entries of the rules and of what they keep by section, each once, in
// the order given. A path proposed for write is not also added to read.
func planOf(rules []Rule) (map[string][]string, error) {
	plan := map[string][]string{}
	seen := map[string]bool{}
	for _, r := range rules {
		for _, r := range append([]Rule{r}, r.Keeps...) {
			if !slices.Contains(sectionOrder, r.Section) {
				return nil, fmt.Errorf("rule %q: unknown section %q; want one of %s", r.Entry, r.Section, strings.Join(sectionOrder, ", "))
			}
			k := r.Section + " " + r.Entry
			if seen[k] {
				continue
			}
			seen[k] = true
			plan[r.Section] = append(plan[r.Section], r.Entry)
		}
	}
	written := map[string]bool{}
	for _, e := range plan[SectionWrite] {
		written[pathKey(e)] = true
	}
	plan[SectionRead] = slices.DeleteFunc(plan[SectionRead], func(e string) bool { return written[pathKey(e)] })
	return plan, nil
}

// applier edits the node tree and records the same change as edits of the text.
type applier struct {
	text  string
	lines []int // offset where each line starts, then len(text)
	root  *yaml.Node
	edits []edit
	ok    bool // the edits reproduce the tree's change
	crlf  bool // lines end in \r\n
	// unit is the document's indentation step, seqIndent how far a list's "-" sits to the
	// right of its key.
	unit, seqIndent int
}

// edit replaces text[start:end] with repl.
type edit struct {
	start, end int
	repl       string
}

func newApplier(text string, root *yaml.Node) *applier {
	a := &applier{text: text, root: root, ok: true, lines: []int{0}, crlf: strings.Contains(text, "\r\n")}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' && i+1 < len(text) {
			a.lines = append(a.lines, i+1)
		}
	}
	a.lines = append(a.lines, len(text))
	a.unit, a.seqIndent = 2, -1
	unitFound := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if v.Kind != yaml.MappingNode || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 {
			continue
		}
		if !unitFound && v.Content[0].Column > k.Column {
			a.unit, unitFound = v.Content[0].Column-k.Column, true
		}
		for j := 0; j+1 < len(v.Content) && a.seqIndent < 0; j += 2 {
			lk, lv := v.Content[j], v.Content[j+1]
			if lv.Kind == yaml.SequenceNode && lv.Style&yaml.FlowStyle == 0 && len(lv.Content) > 0 {
				if d := a.indent(lv.Content[0].Line) - (lk.Column - 1); d >= 0 {
					a.seqIndent = d
				}
			}
		}
	}
	if a.seqIndent < 0 {
		a.seqIndent = a.unit
	}
	return a
}

// result applies the edits to the text.
func (a *applier) result() (string, bool) {
	if !a.ok {
		return "", false
	}
	edits := slices.Clone(a.edits)
	slices.SortStableFunc(edits, func(x, y edit) int { return cmp.Compare(x.start, y.start) })
	var b strings.Builder
	at := 0
	for _, e := range edits {
		if e.start < at {
			return "", false // overlapping edits
		}
		b.WriteString(a.text[at:e.start])
		if a.crlf {
			e.repl = strings.ReplaceAll(e.repl, "\n", "\r\n")
		}
		b.WriteString(e.repl)
		at = e.end
	}
	b.WriteString(a.text[at:])
	return b.String(), true
}

func (a *applier) insert(at int, s string) { a.edits = append(a.edits, edit{at, at, s}) }

// add puts the entries of plan for the given lists ("filesystem.read", …) into the
// section secName ("filesystem") of the document.
func (a *applier) add(secName string, lists []string, plan map[string][]string) error {
	listName := func(s string) string { return s[len(secName)+1:] }
	// newMapping is the section as a mapping of the lists, for a section absent or null.
	newMapping := func() *yaml.Node {
		m := &yaml.Node{Kind: yaml.MappingNode}
		for _, s := range lists {
			m.Content = append(m.Content, strNode(listName(s)), seqNode(plan[s], false))
		}
		return m
	}
	blockLists := func(ind int) string {
		var b strings.Builder
		for _, s := range lists {
			b.WriteString(a.blockList(ind, listName(s), plan[s]))
		}
		return b.String()
	}
	i := keyIndex(a.root, secName)
	if i < 0 {
		a.root.Content = append(a.root.Content, strNode(secName), newMapping())
		if a.root.Style&yaml.FlowStyle != 0 || len(a.root.Content) == 2 {
			a.ok = false
			return nil
		}
		ind := a.root.Content[0].Column - 1
		a.insert(a.docEnd(), spaces(ind)+secName+":\n"+blockLists(ind+a.unit))
		return nil
	}
	k, v := a.root.Content[i], a.root.Content[i+1]
	switch {
	case secName == "network" && v.Kind == yaml.ScalarNode && v.Value == "none":
		return fmt.Errorf("%w (line %d), which allows no network; drop the network rules, or replace that line with a network mapping first", ErrNetworkNone, v.Line)
	case isNull(v):
		a.root.Content[i+1] = newMapping()
		parts := make([]string, len(lists))
		for j, s := range lists {
			parts[j] = listName(s) + ": " + flowList(plan[s])
		}
		a.fillNull(a.root, k, v, blockLists(k.Column-1+a.unit), "{"+strings.Join(parts, ", ")+"}")
		return nil
	case v.Kind == yaml.MappingNode:
		last := len(v.Content) - 1 // the last value written in the text
		// The lists there first: a new list goes at the end of the section, where the items
		// of the section's last list go too, and must come after them.
		there := func(s string) bool { return keyIndex(v, listName(s)) >= 0 }
		for _, s := range slices.Concat(slices.DeleteFunc(slices.Clone(lists), func(s string) bool { return !there(s) }), slices.DeleteFunc(slices.Clone(lists), there)) {
			if err := a.addToList(s, k, v, last, listName(s), plan[s]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: %s is not a mapping, so %s cannot be added to it; write it as a mapping with a %s: list", v.Line, secName, lists[0], listName(lists[0]))
}

// addToList puts entries into the list listName of the section mapping sec (whose key is
// secKey, and whose value at lastIndex is the last one in the text).
func (a *applier) addToList(section string, secKey, sec *yaml.Node, lastIndex int, listName string, entries []string) error {
	if section == SectionRead { // a path written is read too; listing it in both is an error
		entries = slices.DeleteFunc(slices.Clone(entries), func(e string) bool { return hasPath(valueOf(sec, "write"), e) })
		if len(entries) == 0 {
			return nil
		}
	}
	flowSec := sec.Style&yaml.FlowStyle != 0
	i := keyIndex(sec, listName)
	if i < 0 {
		var last *yaml.Node
		if lastIndex >= 0 {
			last = sec.Content[lastIndex]
		}
		sec.Content = append(sec.Content, strNode(listName), seqNode(entries, flowSec))
		switch {
		case !flowSec:
			a.insert(a.blockEnd(secKey.Line, secKey.Column-1), a.blockList(sec.Content[0].Column-1, listName, entries))
		case last != nil:
			if end, ok := a.nodeEnd(last, true); ok {
				a.insert(end, ", "+listName+": "+flowList(entries))
			} else {
				a.ok = false
			}
		default:
			a.insert(a.offset(sec.Line, sec.Column)+1, listName+": "+flowList(entries))
		}
		if section == SectionWrite {
			a.dropFromRead(secKey, sec, entries)
		}
		return nil
	}
	k, v := sec.Content[i], sec.Content[i+1]
	if isNull(v) {
		sec.Content[i+1] = seqNode(entries, flowSec)
		a.fillNull(sec, k, v, blockItems(spaces(k.Column-1+a.seqIndent)+"- ", entries), flowList(entries))
		if section == SectionWrite {
			a.dropFromRead(secKey, sec, entries)
		}
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: %s is not a list, so entries cannot be added to it", v.Line, section)
	}
	flow := v.Style&yaml.FlowStyle != 0
	var last *yaml.Node
	if n := len(v.Content); n > 0 {
		last = v.Content[n-1]
	}
	var added []string
	for _, e := range entries {
		if strings.HasPrefix(section, "network.") {
			if j := hostIndex(v, e); j >= 0 {
				old := v.Content[j]
				if merged, changed := mergePorts(old.Value, e, section == SectionNetworkAllow); changed {
					a.replaceScalar(old, merged, flow)
					old.Value, old.Style, old.Tag = merged, 0, "!!str"
				}
				continue
			}
		} else if hasPath(v, e) {
			continue
		}
		added = append(added, e)
		v.Content = append(v.Content, strNode(e))
	}
	if len(added) > 0 {
		switch {
		case flow && last != nil:
			if end, ok := a.nodeEnd(last, true); ok {
				a.insert(end, ", "+strings.TrimSuffix(strings.TrimPrefix(flowList(added), "["), "]"))
			} else {
				a.ok = false
			}
		case flow:
			a.insert(a.offset(v.Line, v.Column)+1, strings.TrimSuffix(strings.TrimPrefix(flowList(added), "["), "]"))
		default:
			a.insert(a.blockEnd(k.Line, k.Column-1), blockItems(a.itemPrefix(v, k), added))
		}
	}
	if section == SectionWrite {
		a.dropFromRead(secKey, sec, added)
	}
	return nil
}

// dropFromRead removes from the section's read list the paths now written: a path in both
// read and write of one file is an error, and write includes read.
func (a *applier) dropFromRead(secKey, sec *yaml.Node, written []string) {
	if secKey.Value != "filesystem" || len(written) == 0 {
		return
	}
	i := keyIndex(sec, "read")
	if i < 0 || sec.Content[i+1].Kind != yaml.SequenceNode {
		return
	}
	k, v := sec.Content[i], sec.Content[i+1]
	keys := map[string]bool{}
	for _, w := range written {
		keys[pathKey(w)] = true
	}
	var keep, drop []*yaml.Node
	for _, n := range v.Content {
		if keys[pathKey(n.Value)] {
			drop = append(drop, n)
		} else {
			keep = append(keep, n)
		}
	}
	if len(drop) == 0 {
		return
	}
	v.Content = keep
	switch {
	case v.Style&yaml.FlowStyle != 0:
		// Rewrite the list from the source text of the items kept.
		end, ok := a.nodeEnd(v, true)
		parts := make([]string, 0, len(keep))
		for _, n := range keep {
			if n.Line == 0 { // added by this Apply
				parts = append(parts, scalar(n.Value, true))
				continue
			}
			e, ok2 := a.nodeEnd(n, true)
			ok = ok && ok2
			if ok2 {
				parts = append(parts, a.text[a.offset(n.Line, n.Column):e])
			}
		}
		if !ok {
			a.ok = false
			return
		}
		// The rewrite holds the items appended to this list, so it replaces their insertion.
		start := a.offset(v.Line, v.Column)
		a.edits = slices.DeleteFunc(a.edits, func(e edit) bool { return e.start == e.end && start < e.start && e.start < end })
		a.edits = append(a.edits, edit{start, end, "[" + strings.Join(parts, ", ") + "]"})
	case len(keep) == 0 && sec.Style&yaml.FlowStyle == 0:
		// No read entries left: remove the key with its list.
		sec.Content = slices.Delete(sec.Content, i, i+2)
		a.edits = append(a.edits, edit{a.lineStart(k.Line), a.blockEnd(k.Line, k.Column-1), ""})
	default:
		for _, n := range drop {
			start, end := a.lineStart(n.Line), a.lineStart(n.Line+1)
			e, ok := a.nodeEnd(n, false)
			rest := strings.TrimSpace(a.text[min(e, end):end])
			if !ok || !itemPrefixRE().MatchString(a.text[start:a.offset(n.Line, n.Column)]) || rest != "" && rest[0] != '#' {
				a.ok = false
				return
			}
			a.edits = append(a.edits, edit{start, end, ""})
		}
	}
}

// fillNull writes a value where the mapping m has key k with an empty or null value v:
// block text below the key for an empty value, flow text in place of "~" or "null".
func (a *applier) fillNull(m, k, v *yaml.Node, block, flow string) {
	switch {
	case v.Value != "":
		a.edits = append(a.edits, edit{a.offset(v.Line, v.Column), a.offset(v.Line, v.Column) + len(v.Value), flow})
	case m.Style&yaml.FlowStyle != 0:
		a.ok = false
	default:
		a.insert(a.blockEnd(k.Line, k.Column-1), block)
	}
}

// replaceScalar rewrites the text of the scalar n as value.
func (a *applier) replaceScalar(n *yaml.Node, value string, flow bool) {
	end, ok := a.nodeEnd(n, flow)
	if !ok {
		a.ok = false
		return
	}
	a.edits = append(a.edits, edit{a.offset(n.Line, n.Column), end, scalar(value, flow)})
}

var itemPrefixRE = profiles.LazyRegexp(`^ *- +$`)

// itemPrefix is the text before an item of the block list v (key k): "    - ".
func (a *applier) itemPrefix(v, k *yaml.Node) string {
	if len(v.Content) > 0 {
		n := v.Content[0]
		if p := a.text[a.lineStart(n.Line):a.offset(n.Line, n.Column)]; itemPrefixRE().MatchString(p) {
			return p
		}
	}
	return spaces(k.Column-1+a.seqIndent) + "- "
}

func (a *applier) blockList(ind int, key string, entries []string) string {
	return spaces(ind) + key + ":\n" + blockItems(spaces(ind+a.seqIndent)+"- ", entries)
}

// blockItems writes entries as block list items, each line starting with prefix ("  - ").
func blockItems(prefix string, entries []string) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(prefix + scalar(e, false) + "\n")
	}
	return b.String()
}

// offset converts a parser position (1-based line, 1-based column in characters) to a
// byte offset in the text.
func (a *applier) offset(line, col int) int {
	if line < 1 || line >= len(a.lines) {
		a.ok = false // a node made here, with no place in the text
		return 0
	}
	at := a.lines[line-1]
	for c := 1; c < col && at < len(a.text); c++ {
		_, size := utf8.DecodeRuneInString(a.text[at:])
		at += size
	}
	return at
}

// lineStart is the offset where a line (1-based) starts; the line after the last starts at
// the end of the text.
func (a *applier) lineStart(line int) int {
	if line < 1 || line > len(a.lines) {
		a.ok = false // a node made here, with no place in the text
		return 0
	}
	return a.lines[line-1]
}

func (a *applier) lineText(line int) string {
	if line < 1 || line >= len(a.lines) {
		a.ok = false
		return ""
	}
	return strings.TrimRight(a.text[a.lines[line-1]:a.lines[line]], "\r\n")
}

func (a *applier) indent(line int) int {
	t := a.lineText(line)
	return len(t) - len(strings.TrimLeft(t, " "))
}

// content reports whether a line holds YAML rather than blanks or a comment.
func (a *applier) content(line int) bool {
	t := strings.TrimSpace(a.lineText(line))
	return t != "" && t[0] != '#'
}

// blockEnd is the offset just after the last line of the block that the key on keyLine,
// indented by keyIndent, starts: the lines up to the next one at the key's indentation or
// less (a list item "- " may sit at the key's indentation). Comment lines indented deeper
// than the block's last line continue its comment and belong to it; other comments and blank
// lines after it belong to what follows.
func (a *applier) blockEnd(keyLine, keyIndent int) int {
	if keyLine < 1 || keyLine >= len(a.lines) {
		a.ok = false
		return 0
	}
	last := keyLine
	for ln := keyLine + 1; ln < len(a.lines); ln++ {
		if !a.content(ln) {
			continue
		}
		ind := a.indent(ln)
		t := strings.TrimLeft(a.lineText(ln), " ")
		if ind < keyIndent || ind == keyIndent && t != "-" && !strings.HasPrefix(t, "- ") {
			break
		}
		last = ln
	}
	// A comment indented deeper than the last line continues that line's comment.
	for ln := last + 1; ln < len(a.lines); ln++ {
		t := strings.TrimSpace(a.lineText(ln))
		if t == "" || t[0] != '#' || a.indent(ln) <= a.indent(last) {
			break
		}
		last = ln
	}
	return a.lines[last]
}

// docEnd is the offset just after the document's last line of YAML.
func (a *applier) docEnd() int {
	for ln := len(a.lines) - 1; ln >= 1; ln-- {
		if a.content(ln) {
			return a.lines[ln]
		}
	}
	return len(a.text)
}

// nodeEnd is the offset just after the source text of a scalar or a flow collection.
func (a *applier) nodeEnd(n *yaml.Node, flow bool) (int, bool) {
	start := a.offset(n.Line, n.Column)
	t := a.text
	switch {
	case n.Kind == yaml.ScalarNode && n.Style&yaml.DoubleQuotedStyle != 0:
		return quotedEnd(t, start, '"')
	case n.Kind == yaml.ScalarNode && n.Style&yaml.SingleQuotedStyle != 0:
		return quotedEnd(t, start, '\'')
	case n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0:
		i := start
		for i < len(t) && t[i] != '\n' && t[i] != '\r' {
			if t[i] == '#' && i > start && (t[i-1] == ' ' || t[i-1] == '\t') || flow && strings.IndexByte(",]}", t[i]) >= 0 {
				break
			}
			i++
		}
		for i > start && (t[i-1] == ' ' || t[i-1] == '\t') {
			i--
		}
		return i, t[start:i] == n.Value // a plain scalar over several lines is not handled
	case n.Style&yaml.FlowStyle != 0 && start < len(t) && (t[start] == '[' || t[start] == '{'):
		return flowEnd(t, start)
	}
	return 0, false
}

// quotedEnd finds the end of a quoted scalar that starts at start.
func quotedEnd(t string, start int, q byte) (int, bool) {
	for i := start + 1; i < len(t); i++ {
		switch {
		case q == '"' && t[i] == '\\':
			i++
		case t[i] == q && q == '\'' && i+1 < len(t) && t[i+1] == '\'':
			i++
		case t[i] == q:
			return i + 1, true
		}
	}
	return 0, false
}

// flowEnd finds the bracket closing the flow collection that opens at start.
func flowEnd(t string, start int) (int, bool) {
	depth := 0
	for i := start; i < len(t); i++ {
		switch c := t[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1, true
			}
		case '"', '\'':
			if prev := strings.TrimRight(t[start:i], " \t\r\n"); prev != "" && strings.IndexByte("[{,:", prev[len(prev)-1]) >= 0 {
				end, ok := quotedEnd(t, i, c)
				if !ok {
					return 0, false
				}
				i = end - 1
			}
		case '#':
			if t[i-1] == ' ' || t[i-1] == '\t' || t[i-1] == '\n' {
				for i < len(t) && t[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0, false
}

func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// valueOf is the value of key in the mapping m, or nil.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	if i := keyIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

// hasPath reports whether the list v holds path in any spelling.
func hasPath(v *yaml.Node, path string) bool {
	return v != nil && v.Kind == yaml.SequenceNode && slices.ContainsFunc(v.Content, func(n *yaml.Node) bool { return pathKey(n.Value) == pathKey(path) })
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func seqNode(entries []string, flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	for _, e := range entries {
		n.Content = append(n.Content, strNode(e))
	}
	return n
}

func spaces(n int) string { return strings.Repeat(" ", max(n, 0)) }

// scalar writes s as a YAML string, quoted where YAML needs it, for a block or flow context.
func scalar(s string, flow bool) string {
	seq := seqNode([]string{s}, flow)
	b, err := yaml.Marshal(seq)
	if err != nil {
		return strconv.Quote(s)
	}
	out := strings.TrimSuffix(string(b), "\n")
	if flow {
		return strings.TrimSuffix(strings.TrimPrefix(out, "["), "]")
	}
	return strings.TrimPrefix(out, "- ")
}

// flowList writes entries as a flow list: [a, b].
func flowList(entries []string) string {
	parts := make([]string, len(entries))
	for i, e := range entries {
		parts[i] = scalar(e, true)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pathKey identifies a path entry whatever its spelling: ~/x, $HOME/x, ${HOME}/x/.
func pathKey(s string) string {
	v, rest := "", strings.TrimSpace(s)
	switch {
	case rest == "~" || strings.HasPrefix(rest, "~/"):
		v, rest = "HOME", rest[1:]
	case strings.HasPrefix(rest, "${"):
		if i := strings.IndexByte(rest, '}'); i > 0 {
			v, rest = rest[2:i], rest[i+1:]
		}
	case strings.HasPrefix(rest, "$"):
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			i = len(rest)
		}
		v, rest = rest[1:i], rest[i:]
	}
	if rest != "" {
		rest = path.Clean(rest)
	}
	if v != "" && rest == "/" {
		rest = ""
	}
	return "$" + v + rest
}

// netEntry is a network entry split into its host (as written) and ports.
type netEntry struct {
	host  string // as written, without brackets
	key   string // identifies the destination: lower-case name, or the CIDR
	v6    bool
	ports []profiles.PortRange
}

func parseNetEntry(s string) (netEntry, bool) {
	var e netEntry
	host, ports := strings.TrimSpace(s), ""
	switch {
	case strings.HasPrefix(host, "["):
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return e, false
		}
		host, ports = host[1:end], strings.TrimPrefix(host[end+1:], ":")
	case strings.Count(host, ":") > 1:
	default:
		host, ports, _ = strings.Cut(host, ":")
	}
	e.host = host
	e.key = strings.TrimSuffix(strings.ToLower(host), ".")
	if p, err := netip.ParsePrefix(host); err == nil {
		e.key, e.v6 = p.String(), p.Addr().Is6()
	} else if a, err := netip.ParseAddr(host); err == nil {
		e.key, e.v6 = netip.PrefixFrom(a, a.BitLen()).String(), a.Is6()
	}
	if ports == "" {
		e.ports = []profiles.PortRange{{From: profiles.DefaultPort, To: profiles.DefaultPort}}
		return e, true
	}
	for _, part := range strings.Split(ports, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(from, 10, 16)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.ParseUint(to, 10, 16)
		}
		if err1 != nil || err2 != nil {
			return e, false
		}
		e.ports = append(e.ports, profiles.PortRange{From: uint16(a), To: uint16(b)})
	}
	return e, true
}

// hostIndex finds the item of list v naming the same destination as entry.
func hostIndex(v *yaml.Node, entry string) int {
	e, ok := parseNetEntry(entry)
	if !ok {
		return -1
	}
	for i, n := range v.Content {
		if o, ok := parseNetEntry(n.Value); ok && o.key == e.key {
			return i
		}
	}
	return -1
}

// mergePorts gives the entry old also the ports of entry add, and says whether that changed
// anything. In network.allow (tcp) a lone 443 is written as the bare host.
func mergePorts(old, add string, tcp bool) (string, bool) {
	o, ok1 := parseNetEntry(old)
	n, ok2 := parseNetEntry(add)
	if !ok1 || !ok2 {
		return old, false
	}
	ports, changed := o.ports, false
	for _, p := range n.ports {
		if !slices.ContainsFunc(ports, func(r profiles.PortRange) bool { return r.From <= p.From && p.To <= r.To }) {
			ports, changed = append(ports, p), true
		}
	}
	if !changed {
		return old, false
	}
	slices.SortFunc(ports, func(x, y profiles.PortRange) int { return cmp.Compare(x.From, y.From) })
	host := o.host
	if tcp && len(ports) == 1 && ports[0] == (profiles.PortRange{From: profiles.DefaultPort, To: profiles.DefaultPort}) {
		return host, true
	}
	if o.v6 {
		host = "[" + host + "]"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	return host + ":" + strings.Join(s, ","), true
}
