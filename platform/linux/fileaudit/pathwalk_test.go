package fileaudit

import (
	"errors"
	"path"
	"strings"
	"testing"
)

// mapView is a file system as a map of canonical paths: a directory ends nothing, a file, a
// symlink with its text, a magic link with where it leads. /proc/self is the caller's entry.
type mapView struct {
	nodes map[string]viewNode
	magic map[string]string // magic link → canonical target ("" : not a path)
}

func (m mapView) lookup(p string) (viewNode, error) {
	if p != path.Clean(p) || !strings.HasPrefix(p, "/") {
		return viewNode{}, errors.New("lookup of a path that is not canonical: " + p)
	}
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		n, ok := m.nodes[d]
		if !ok {
			return viewNode{kind: nodeMissing}, nil
		}
		if n.kind != nodeDir {
			return viewNode{}, errNotDir
		}
	}
	if n, ok := m.nodes[p]; ok {
		return n, nil
	}
	if _, ok := m.magic[p]; ok {
		return viewNode{kind: nodeMagic}, nil
	}
	return viewNode{kind: nodeMissing}, nil
}

func (m mapView) jump(p string) (string, error) {
	t := m.magic[p]
	if t == "" {
		return "", errNotAPath
	}
	return t, nil
}

func dir() viewNode               { return viewNode{kind: nodeDir} }
func file() viewNode              { return viewNode{kind: nodeOther} }
func link(target string) viewNode { return viewNode{kind: nodeSymlink, target: target} }

// sandboxView is a sandbox as the agent (pid 7 in its namespace) sees it.
func sandboxView() mapView {
	return mapView{
		nodes: map[string]viewNode{
			"/etc": dir(), "/etc/shadow": file(), "/etc/ssh": dir(), "/etc/ssh/key": file(),
			"/home": dir(), "/home/u": dir(), "/home/u/.ssh": dir(), "/home/u/.ssh/id": file(),
			"/ws": dir(), "/ws/f": file(), "/ws/sub": dir(),
			"/ws/up": link("../etc/ssh"), "/ws/abs": link("/etc"), "/ws/loop1": link("loop2"), "/ws/loop2": link("loop1"),
			"/ws/self": link("."), "/ws/empty": link(""), "/ws/tty": link("/dev/tty"), "/ws/proc": link("/proc"),
			"/dev": dir(), "/dev/tty": file(), "/dev/fd": link("/proc/self/fd"),
			"/proc": dir(), "/proc/self": link("7"), "/proc/thread-self": link("7/task/9"),
			"/proc/7": dir(), "/proc/7/fd": dir(), "/proc/7/task": dir(), "/proc/7/task/9": dir(),
			"/proc/1": dir(), "/proc/1/environ": file(),
		},
		magic: map[string]string{
			"/proc/7/root": "/", "/proc/7/cwd": "/ws/sub", "/proc/7/fd/3": "/home/u/.ssh/id", "/proc/7/fd/0": "",
			"/proc/1/root": "/", "/proc/7/task/9/cwd": "/ws", "/proc/7/fd/4": "/etc",
		},
	}
}

func TestWalkPath(t *testing.T) {
	for _, tc := range []struct {
		name, full string
		follow     bool
		want       string
		kind       nodeKind
		parentOK   bool
		err        error
	}{
		{name: "plain", full: "/etc/shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "dot and slashes", full: "//etc/./ssh//key", follow: true, want: "/etc/ssh/key", kind: nodeOther, parentOK: true},
		{name: "dotdot stops at the root", full: "/../../etc/shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "proc self root", full: "/proc/self/root/etc/shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "proc pid root", full: "/proc/1/root/home/u/.ssh/id", follow: true, want: "/home/u/.ssh/id", kind: nodeOther, parentOK: true},
		{name: "proc self cwd", full: "/proc/self/cwd/../f", follow: true, want: "/ws/f", kind: nodeOther, parentOK: true},
		{name: "proc thread-self cwd", full: "/proc/thread-self/cwd/f", follow: true, want: "/ws/f", kind: nodeOther, parentOK: true},
		{name: "dev fd", full: "/dev/fd/3", follow: true, want: "/home/u/.ssh/id", kind: nodeOther, parentOK: true},
		{name: "fd to a directory", full: "/proc/self/fd/4/shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "fd to a pipe", full: "/dev/fd/0", follow: true, want: "/proc/7/fd/0", err: errNotAPath},
		{name: "magic link not followed", full: "/proc/self/fd/3", follow: false, want: "/proc/7/fd/3", kind: nodeOther, parentOK: true},
		{name: "relative symlink and dotdot", full: "/ws/up/../shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "absolute symlink", full: "/ws/abs/shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "symlink to /proc", full: "/ws/proc/self/root/etc/shadow", follow: true, want: "/etc/shadow", kind: nodeOther, parentOK: true},
		{name: "last symlink followed", full: "/ws/tty", follow: true, want: "/dev/tty", kind: nodeOther, parentOK: true},
		{name: "last symlink not followed", full: "/ws/tty", follow: false, want: "/ws/tty", kind: nodeOther, parentOK: true},
		{name: "trailing slash follows", full: "/ws/abs/", follow: false, want: "/etc", kind: nodeDir, parentOK: true},
		{name: "loop", full: "/ws/loop1", follow: true, want: "/ws/loop1", err: errLoop},
		{name: "self loop through a dir", full: "/ws/self/self/self/f", follow: true, want: "/ws/f", kind: nodeOther, parentOK: true},
		{name: "empty symlink", full: "/ws/empty/x", follow: true, want: "/ws/empty/x", err: errNotAPath},
		{name: "missing: created in its directory", full: "/ws/sub/new", follow: true, want: "/ws/sub/new", kind: nodeMissing, parentOK: true},
		{name: "missing through a symlink", full: "/ws/abs/new", follow: true, want: "/etc/new", kind: nodeMissing, parentOK: true},
		{name: "missing directory", full: "/ws/no/new", follow: true, want: "/ws/no/new", kind: nodeMissing},
		{name: "file as a directory", full: "/ws/f/x", follow: true, want: "/ws/f/x", err: errNotDir},
		{name: "file then dotdot", full: "/ws/f/../sub", follow: true, want: "/ws/sub", err: errNotDir},
		{name: "procfs entry itself", full: "/proc/1/environ", follow: true, want: "/proc/1/environ", kind: nodeOther, parentOK: true},
		{name: "root", full: "/", follow: true, want: "/", kind: nodeDir, parentOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := walkPath(sandboxView(), tc.full, tc.follow)
			if !errors.Is(err, tc.err) {
				t.Fatalf("walkPath(%q) error %v, want %v", tc.full, err, tc.err)
			}
			if w.path != tc.want {
				t.Errorf("walkPath(%q) = %q, want %q", tc.full, w.path, tc.want)
			}
			if err == nil && (w.kind != tc.kind || w.parentOK != tc.parentOK) {
				t.Errorf("walkPath(%q): kind %d parentOK %v, want %d %v", tc.full, w.kind, w.parentOK, tc.kind, tc.parentOK)
			}
		})
	}
}

func TestEventPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		base string
		want string
		ok   bool
	}{
		{"absolute", "/etc/shadow", "", "/etc/shadow", true},
		{"absolute ignores the base", "/etc/shadow\x00junk", "/ws", "/etc/shadow", true},
		{"relative", "a/../b", "/ws", "/ws/a/../b", true},
		{"relative to the root", "etc", "/", "/etc", true},
		{"empty", "", "/ws", "", false},
		{"relative without a base", "a", "", "", false},
		{"relative to a pipe", "a", "pipe:[3]", "", false},
		{"too long", "/" + strings.Repeat("a", 4096), "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := eventPath([]byte(tc.raw), tc.base)
			if got != tc.want || ok != tc.ok {
				t.Errorf("eventPath(%q, %q) = %q, %v; want %q, %v", tc.raw, tc.base, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestShebang(t *testing.T) {
	for _, tc := range []struct{ head, want string }{
		{"#!/bin/sh\necho", "/bin/sh"},
		{"#! /usr/bin/env python3\n", "/usr/bin/env"},
		{"#!\t/usr/bin/perl -w\n", "/usr/bin/perl"},
		{"#!/bin/sh", "/bin/sh"},
		{"\x7fELF", ""},
		{"#!\n", ""},
		{"#!/a\x00b\n", "/a"},
		{"#!/" + strings.Repeat("a", 300), ""},
	} {
		if got := shebang([]byte(tc.head)); got != tc.want {
			t.Errorf("shebang(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

// FuzzWalkPath walks any path in the sandbox view: the walk ends, its path is canonical, and
// where it says something exists, a walk of that path finds the same without a symlink.
func FuzzWalkPath(f *testing.F) {
	for _, s := range []string{
		"/proc/self/root/etc/shadow", "/dev/fd/3", "/ws/up/../shadow", "/ws/loop1/x", "/proc/thread-self/cwd/../..",
		"/ws/self/self/abs/ssh/../shadow", "/ws/proc/1/root/ws/tty", "/ws/f/", "/../proc/7/fd/4/./ssh//key",
	} {
		f.Add(s, true)
	}
	v := sandboxView()
	f.Fuzz(func(t *testing.T, full string, follow bool) {
		if !strings.HasPrefix(full, "/") {
			full = "/" + full
		}
		w, err := walkPath(v, full, follow)
		if !strings.HasPrefix(w.path, "/") || w.path != path.Clean(w.path) {
			t.Fatalf("walkPath(%q) = %q: not canonical", full, w.path)
		}
		if err != nil || w.kind == nodeMissing {
			return
		}
		// Canonical: walking it again, without following its last element, finds it as is.
		again, err := walkPath(v, w.path, false)
		if err != nil || again.path != w.path {
			t.Fatalf("walkPath(%q) = %q, which walks to %q (%v)", full, w.path, again.path, err)
		}
		// A path without symlinks is its own cleaned spelling.
		if !throughLinks(v, full) && w.path != path.Clean(full) {
			t.Fatalf("walkPath(%q) = %q, want %q", full, w.path, path.Clean(full))
		}
	})
}

// FuzzEventPath decodes any name against any base: a result is absolute, holds no NUL and
// keeps an absolute name as it was.
func FuzzEventPath(f *testing.F) {
	f.Add([]byte("/etc/shadow\x00x"), "/ws")
	f.Add([]byte("a/../../b"), "/ws/")
	f.Add([]byte(""), "/")
	f.Fuzz(func(t *testing.T, raw []byte, base string) {
		full, ok := eventPath(raw, base)
		if !ok {
			return
		}
		if !strings.HasPrefix(full, "/") || strings.IndexByte(full, 0) >= 0 {
			t.Fatalf("eventPath(%q, %q) = %q", raw, base, full)
		}
		if raw[0] == '/' && !strings.HasPrefix(string(raw), full) {
			t.Fatalf("eventPath(%q, %q) = %q: an absolute name changed", raw, base, full)
		}
	})
}

// throughLinks reports whether a walk of full meets a symlink or a magic link (as spelt,
// ".." taken lexically).
func throughLinks(v mapView, full string) bool {
	var done []string
	for _, c := range strings.Split(full, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		done = append(done, c)
		n, err := v.lookup("/" + strings.Join(done, "/"))
		if err != nil || n.kind == nodeSymlink || n.kind == nodeMagic {
			return true
		}
	}
	return false
}
