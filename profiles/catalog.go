package profiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Layer says where a profile comes from. A higher layer shadows a lower one of the same name.
type Layer int

// The layers, lowest first.
const (
	LayerBuiltin Layer = iota // embedded in the binary
	LayerUser                 // $XDG_CONFIG_HOME/agentrun/profiles
	LayerFile                 // named on the command line with --profile FILE
)

func (l Layer) String() string {
	return [...]string{"builtin", "user", "file"}[l]
}

// Entry is one profile known to a Catalog.
type Entry struct {
	File  *File
	Layer Layer
}

// Name is the profile's name.
func (e *Entry) Name() string { return e.File.Name.Value }

// Catalog is every profile agentrun knows: the built-in ones and the user's.
type Catalog struct {
	layers [2]map[string]*Entry // builtin, user
	// pending are built-in profiles not parsed yet, by name: a run parses the profiles it
	// uses, not all of them (parsing every one took a good part of agentrun's start). The
	// user's are parsed at once, so that a broken one is reported whatever the run.
	pending map[string][]byte
	// builtinMatch is the built-in profiles' match lists, from the index kept beside them
	// (MatchIndexFile), so that choosing the profile for a command parses none of them; nil
	// without an index.
	builtinMatch map[string][]string
}

// MatchIndexFile is the file, beside the built-in profiles, that lists each one's match list:
// a line "NAME: COMMAND COMMAND…" per profile (see FormatMatchIndex).
const MatchIndexFile = "match.index"

// Load parses the built-in profiles (the *.yaml files at the root of builtin) and those in
// userDir (which may be empty or missing). Every problem in every file is reported: a broken
// profile is an error, not a profile silently skipped.
func Load(builtin fs.FS, userDir string) (*Catalog, error) {
	c := &Catalog{layers: [2]map[string]*Entry{{}, {}}, pending: map[string][]byte{}}
	var all ErrorList
	if builtin != nil {
		names, err := fs.Glob(builtin, "*.yaml")
		if err != nil {
			return nil, fmt.Errorf("listing built-in profiles: %w", err)
		}
		for _, n := range names {
			data, err := fs.ReadFile(builtin, n)
			if err != nil {
				return nil, fmt.Errorf("reading built-in profile %s: %w", n, err)
			}
			c.pending[strings.TrimSuffix(n, ".yaml")] = data
		}
		if index, err := fs.ReadFile(builtin, MatchIndexFile); err == nil {
			c.builtinMatch = parseMatchIndex(index)
		}
	}
	if userDir != "" {
		names, err := userFiles(userDir)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			data, err := ReadFileBounded(n, MaxFileSize)
			if err != nil {
				return nil, readError(n, err)
			}
			all = append(all, c.add(LayerUser, n, data)...)
		}
	}
	if err := all.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func userFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the profiles directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

func (c *Catalog) add(layer Layer, name string, data []byte) ErrorList {
	f, err := Parse(name, data)
	if err != nil {
		return err.(ErrorList)
	}
	return c.addFile(layer, name, f)
}

// addFile adds f, read from the file name, to layer.
func (c *Catalog) addFile(layer Layer, name string, f *File) ErrorList {
	base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	if f.Name.Value != base {
		return ErrorList{{Pos: f.Name.Pos, Field: "name", Msg: fmt.Sprintf("%q does not match the file name %s; a profile in a profiles directory is named after its file, so rename one of them", f.Name.Value, filepath.Base(name))}}
	}
	c.layers[layer][f.Name.Value] = &Entry{File: f, Layer: layer}
	return nil
}

// Lookup finds a profile by name, the user's shadowing a built-in one.
func (c *Catalog) Lookup(name string) (*Entry, error) {
	return c.lookupBelow(name, LayerFile)
}

// lookupBelow finds name in the highest layer below limit.
func (c *Catalog) lookupBelow(name string, limit Layer) (*Entry, error) {
	for l := min(limit-1, LayerUser); l >= LayerBuiltin; l-- {
		if l == LayerBuiltin {
			if err := c.parsePending(name); err != nil {
				return nil, err
			}
		}
		if e, ok := c.layers[l][name]; ok {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%w: %q (agentrun profiles list shows the known ones)", ErrNotFound, name)
}

// List returns every visible profile (shadowed built-ins left out), sorted by name.
func (c *Catalog) List() []*Entry {
	for name := range c.pending {
		_ = c.parsePending(name) // a built-in profile that does not parse is a bug its tests catch
	}
	seen := map[string]*Entry{}
	for l := LayerBuiltin; l <= LayerUser; l++ {
		for n, e := range c.layers[l] {
			seen[n] = e
		}
	}
	out := make([]*Entry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Match returns the profile whose match list names the base name of argv0. The user's
// profiles are searched first; ok is false when none matches.
func (c *Catalog) Match(argv0 string) (e *Entry, ok bool, err error) {
	cmd := filepath.Base(argv0)
	for l := LayerUser; l >= LayerBuiltin; l-- {
		var found []*Entry
		for _, e := range c.candidates(l, cmd) {
			for _, m := range c.MatchList(e) {
				if m == cmd {
					found = append(found, e)
				}
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], true, nil
		default:
			return nil, false, fmt.Errorf("profiles %s and %s both match %q; remove it from one match list, or choose with --profile", found[0].File.Source, found[1].File.Source, cmd)
		}
	}
	return nil, false, nil
}

// MatchList returns the command names that select e. A profile without a match list that
// shadows a built-in profile of the same name keeps the built-in's, so a user's own "claude"
// is still picked for claude.
func (c *Catalog) MatchList(e *Entry) []string {
	var out []string
	for _, m := range e.File.Match {
		out = append(out, m.Value)
	}
	if len(out) == 0 && e.Layer > LayerBuiltin {
		if lower, err := c.lookupBelow(e.Name(), e.Layer); err == nil {
			return c.MatchList(lower)
		}
	}
	return out
}

// readError says why the profile file name could not be read as its other findings are said,
// "FILE: what": "claude.yaml: permission denied", not "reading profile: open claude.yaml: …".
func readError(name string, err error) error {
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%s: %w; a profile is at most %d bytes", name, err, MaxFileSize)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ReadFile parses a profile named on the command line. It may have any name; its extends are
// looked up in the catalog.
func ReadFile(name string) (*Entry, error) {
	data, err := ReadFileBounded(name, MaxFileSize)
	if err != nil {
		return nil, readError(name, err)
	}
	f, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	return &Entry{File: f, Layer: LayerFile}, nil
}

// candidates are the visible profiles of layer l that may match cmd: all of them, but for
// the built-in layer with an index only those the index says match, parsed.
func (c *Catalog) candidates(l Layer, cmd string) []*Entry {
	var out []*Entry
	if l == LayerBuiltin && c.builtinMatch != nil {
		for name, list := range c.builtinMatch {
			if _, shadowed := c.layers[LayerUser][name]; shadowed || !contains(list, cmd) {
				continue
			}
			if err := c.parsePending(name); err == nil && c.layers[l][name] != nil {
				out = append(out, c.layers[l][name])
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
		return out
	}
	if l == LayerBuiltin {
		for name := range c.pending {
			_ = c.parsePending(name)
		}
	}
	for _, e := range c.layers[l] {
		if l == LayerUser || c.layers[LayerUser][e.Name()] == nil {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// parsePending parses the built-in profile name if it has not been yet.
func (c *Catalog) parsePending(name string) error {
	data, ok := c.pending[name]
	if !ok {
		return nil
	}
	delete(c.pending, name)
	source := path.Join("builtin", name+".yaml")
	f, err := parseBuiltin(name, source, data)
	if err != nil {
		return err
	}
	if err := c.addFile(LayerBuiltin, source, f); len(err) > 0 {
		return err
	}
	return nil
}

// FormatMatchIndex is the match index (MatchIndexFile) of the profiles in c.
func FormatMatchIndex(c *Catalog) []byte {
	var b strings.Builder
	for _, e := range c.List() {
		if e.Layer != LayerBuiltin {
			continue
		}
		b.WriteString(e.Name() + ":")
		for _, m := range e.File.Match {
			b.WriteString(" " + m.Value)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func parseMatchIndex(data []byte) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		name, list, ok := strings.Cut(line, ":")
		if ok && name != "" {
			out[name] = strings.Fields(list)
		}
	}
	return out
}
