package fileaudit

import (
	"errors"
	"path"
	"strings"
)

// The path walk: what an agent's system call names, made into the canonical path the kernel
// will reach, in the agent's view. It is pure: the file system it walks is a pathView, which
// the notifier backs with descriptors in the agent's root (agentview_linux.go) and the tests
// and fuzzers with a map.

// maxPathLen is PATH_MAX: the kernel refuses longer names (ENAMETOOLONG).
const maxPathLen = 4096

// maxLinks is how many symlinks the kernel follows in one lookup (MAXSYMLINKS) before ELOOP.
const maxLinks = 40

// maxSteps bounds the lookups of one walk. The kernel has no such bound, but a path that
// needs more (hundreds of "x/.." or symlinks to long targets) is an attempt to make the walk
// slow, not a program's: it is reported as errTooComplex, which the judge records as denied
// rather than guess.
const maxSteps = 256

// Walk errors: but for errTooComplex, the call fails, whatever the policy says.
var (
	errTooComplex = errors.New("path needs too many lookups to resolve")
	errLoop       = errors.New("too many levels of symbolic links")
	errNotDir     = errors.New("not a directory")
	errTooLong    = errors.New("path too long")
	errNotAPath   = errors.New("not a path")
)

// eventPath makes the name a call passed (its raw bytes, up to the first NUL) absolute against
// base, the directory the call is relative to (its dirfd's or the working directory's path in
// the caller's view). It does not clean the result: ".." after a symlink is the walk's to
// resolve. ok is false when the call fails before any lookup: an empty or over-long name, or a
// relative one without an absolute base.
func eventPath(raw []byte, base string) (full string, ok bool) {
	if i := strings.IndexByte(string(raw), 0); i >= 0 {
		raw = raw[:i]
	}
	if len(raw) == 0 || len(raw) >= maxPathLen {
		return "", false
	}
	name := string(raw)
	if name[0] == '/' {
		return name, true
	}
	if !strings.HasPrefix(base, "/") || strings.IndexByte(base, 0) >= 0 {
		return "", false
	}
	return strings.TrimSuffix(base, "/") + "/" + name, true
}

// nodeKind is what a lookup found.
type nodeKind int

const (
	nodeMissing nodeKind = iota
	nodeDir
	nodeOther   // a regular file, a device, a socket, a FIFO
	nodeSymlink // an ordinary symlink, to be followed by its text
	nodeMagic   // a /proc magic link (root, cwd, exe, fd/N…): it leads to an object, not a text
)

// viewNode is one lookup's answer.
type viewNode struct {
	kind   nodeKind
	target string // nodeSymlink: the link's text
}

// pathView is a file system as one process sees it. Both methods get canonical absolute
// paths: no symlink in their directories, no "." or "..".
type pathView interface {
	// lookup says what is at p, without following a symlink there. A procfs "self" or
	// "thread-self" is a symlink to the caller's own entry.
	lookup(p string) (viewNode, error)
	// jump follows the magic link at p and returns the canonical path of what it leads to;
	// errNotAPath for a pipe, a socket, an anonymous inode.
	jump(p string) (string, error)
}

// walked is where a walk ended.
type walked struct {
	path string   // canonical, absolute; the path as written (cleaned) past a failed step
	kind nodeKind // what is there: nodeMissing when the call will fail or create it
	// parentOK: the path's directory exists (a missing last element could be created).
	parentOK bool
}

// walkPath resolves full (absolute) in v as the kernel's path walk does: "." and ".." (which
// stops at the root), symlinks (at most maxLinks, absolute ones from the root), magic links
// (jumped through), a trailing slash (follows, needs a directory). follow says whether a
// symlink in the last element is followed. It never fails: when a step fails, the rest is kept
// as written (cleaned) and the kind is nodeMissing; err says why.
func walkPath(v pathView, full string, follow bool) (walked, error) {
	if !strings.HasPrefix(full, "/") {
		return walked{path: path.Clean("/" + full)}, errNotAPath
	}
	if len(full) >= maxPathLen {
		return walked{path: path.Clean(full)}, errTooLong
	}
	todo := components(full)
	var done []string
	links, steps := 0, 0
	kind := nodeDir // the root
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if kind != nodeDir {
			return stopped(done, c, todo, false), errNotDir // "file/x", "file/", "file/.."
		}
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		if steps++; steps > maxSteps {
			return stopped(done, c, todo, false), errTooComplex
		}
		p := "/" + strings.Join(append(done, c), "/")
		n, err := v.lookup(p)
		if err != nil {
			return stopped(done, c, todo, onlySlashes(todo)), err
		}
		// Anything after c, even "/" or "/.", makes c a directory to go through.
		last := len(todo) == 0
		switch n.kind {
		case nodeMissing:
			// Created by the call, when it creates ("dir/" only by mkdir): its parent is done.
			return walked{path: cleanJoin(done, c, todo), kind: nodeMissing, parentOK: onlySlashes(todo)}, nil
		case nodeSymlink, nodeMagic:
			if last && !follow {
				done, kind = append(done, c), nodeOther
				continue
			}
			if links++; links > maxLinks {
				return stopped(done, c, todo, false), errLoop
			}
			if n.kind == nodeMagic {
				t, err := v.jump(p)
				if err != nil {
					return stopped(done, c, todo, false), err
				}
				if !strings.HasPrefix(t, "/") {
					return stopped(done, c, todo, false), errNotAPath
				}
				done = nonEmpty(components(t))
				if kind, err = kindAt(v, done); err != nil {
					return stopped(done, "", todo, false), err
				}
				continue
			}
			if n.target == "" {
				return stopped(done, c, todo, false), errNotAPath // an empty link: ENOENT
			}
			if strings.HasPrefix(n.target, "/") {
				done = done[:0:0]
			}
			todo = append(components(n.target), todo...)
		case nodeDir:
			done, kind = append(done, c), nodeDir
		default:
			done, kind = append(done, c), nodeOther
		}
	}
	return walked{path: "/" + strings.Join(done, "/"), kind: kind, parentOK: true}, nil
}

// kindAt says what is at the canonical path done, where a magic link led: the object itself,
// never a link to follow again.
func kindAt(v pathView, done []string) (nodeKind, error) {
	if len(done) == 0 {
		return nodeDir, nil
	}
	n, err := v.lookup("/" + strings.Join(done, "/"))
	if err != nil {
		return nodeMissing, err
	}
	switch n.kind {
	case nodeMissing:
		return nodeMissing, errNotAPath // a deleted file, or one out of the caller's view
	case nodeSymlink, nodeMagic:
		return nodeOther, nil
	}
	return n.kind, nil
}

// stopped is where a walk that failed at c ends: the rest as written, cleaned.
func stopped(done []string, c string, todo []string, parentOK bool) walked {
	return walked{path: cleanJoin(done, c, todo), kind: nodeMissing, parentOK: parentOK}
}

func cleanJoin(done []string, c string, todo []string) string {
	return path.Clean("/" + strings.Join(append(append(append([]string(nil), done...), c), todo...), "/"))
}

func components(p string) []string { return strings.Split(p, "/") }

func nonEmpty(cs []string) []string {
	out := cs[:0:0]
	for _, c := range cs {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// onlySlashes reports whether todo is nothing but trailing slashes.
func onlySlashes(todo []string) bool {
	for _, c := range todo {
		if c != "" {
			return false
		}
	}
	return true
}

// shebangMax is how much of a script the kernel reads for its #! line (BINPRM_BUF_SIZE).
const shebangMax = 256

// shebang is the interpreter a script's first bytes name after "#!", as the kernel reads it:
// blanks skipped, up to the next blank, NUL or newline; "" when head is no script or the
// name does not end within head (the kernel refuses those).
func shebang(head []byte) string {
	line, ok := strings.CutPrefix(string(head), "#!")
	if !ok {
		return ""
	}
	nl := strings.IndexByte(line, '\n')
	if nl >= 0 {
		line = line[:nl]
	}
	line = strings.TrimLeft(line, " \t")
	end := strings.IndexAny(line, " \t\x00")
	if end < 0 {
		if nl < 0 && len(head) >= shebangMax {
			return "" // cut off by the kernel's buffer
		}
		end = len(line)
	}
	return line[:end]
}
