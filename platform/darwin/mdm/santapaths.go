package mdm

import (
	"fmt"
	"strings"

	"github.com/agentrun/agentrun/profiles"
)

// watchPaths maps one deny rule to Santa's paths. Santa's Path is a glob(3) pattern (*, ?,
// [...]; no **) matched literally or, with IsPrefix, as a string prefix — so a directory is
// watched as the literal path and the prefix "path/", never the bare prefix, which would also
// catch its siblings (~/.config/gh would catch ~/.config/ghostty). A trailing ** becomes the
// prefix alone; a ** anywhere else cannot be said and is refused, naming the rule; a trailing
// negation element !(a|b) widens to its whole directory, said in the note.
func watchPaths(r profiles.PathRule) (paths []WatchPath, note string, err error) {
	elems := strings.Split(r.Path, "/")
	last := len(elems) - 1
	for i, el := range elems {
		if strings.Contains(el, "**") && (el != "**" || i != last) {
			return nil, "", fmt.Errorf("%s (%s): Santa's path globs (glob(3)) have no ** but at the end of a path; write the rule as a directory or with * within one name", r.Pattern, r.Origin)
		}
		if strings.Contains(el, "!(") && i != last {
			return nil, "", fmt.Errorf("%s (%s): Santa's path globs have no negation !(...); only a last element !(...) can be widened to its directory", r.Pattern, r.Origin)
		}
	}
	dir := strings.Join(elems[:last], "/")
	switch lastEl := elems[last]; {
	case lastEl == "**":
		return []WatchPath{{Path: dir + "/", IsPrefix: true}}, "", nil
	case strings.HasPrefix(lastEl, "!("):
		note = fmt.Sprintf("%s (%s): Santa's globs have no negation: the whole directory %s is protected, the names the rule excepts too", r.Pattern, r.Origin, dir)
		return []WatchPath{{Path: dir}, {Path: dir + "/", IsPrefix: true}}, note, nil
	case strings.Contains(lastEl, "!("):
		return nil, "", fmt.Errorf("%s (%s): a negation !(...) must be a whole path element", r.Pattern, r.Origin)
	}
	return []WatchPath{{Path: r.Path}, {Path: r.Path + "/", IsPrefix: true}}, "", nil
}
