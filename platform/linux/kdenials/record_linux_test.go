package kdenials

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// rawRecord lays out a record as the exit program does.
func rawRecord(nr int, errno unix.Errno, args [6]uint64, spec uint32, paths ...any) []byte {
	b := make([]byte, recHeader)
	le := binary.NativeEndian
	le.PutUint32(b[recTgid:], 100)
	le.PutUint32(b[recTid:], 101)
	le.PutUint32(b[recNr:], uint32(nr))
	le.PutUint32(b[recErrno:], uint32(errno))
	for i, a := range args {
		le.PutUint64(b[recArgs+8*i:], a)
	}
	le.PutUint32(b[recSpec:], spec)
	for i, p := range paths {
		switch p := p.(type) {
		case string:
			le.PutUint32(b[recLen1+4*i:], uint32(len(p)+1))
			b = append(append(b, p...), 0)
		case unix.Errno:
			le.PutUint32(b[recLen1+4*i:], uint32(-int32(p)))
		}
	}
	return b
}

func TestDecodeRecord(t *testing.T) {
	args := [6]uint64{uint64(0xffffffff_ffffff9c), 0x7f00, 3, 0x7f10, 0, 0}
	for _, tc := range []struct {
		name string
		raw  []byte
		want Record
		err  bool
	}{
		{
			name: "no path",
			raw:  rawRecord(unix.SYS_TRUNCATE, unix.EACCES, args, 0),
			want: Record{Pid: 100, Tid: 101, Nr: unix.SYS_TRUNCATE, Errno: unix.EACCES, Args: args},
		},
		{
			name: "one path",
			raw:  rawRecord(unix.SYS_OPENAT, unix.EROFS, args, pathSpec(Call{Paths: []int{1}, Flags: 3}), "rel/name"),
			want: Record{Pid: 100, Tid: 101, Nr: unix.SYS_OPENAT, Errno: unix.EROFS, Args: args,
				Paths: []Path{{Arg: 1, Name: "rel/name"}}},
		},
		{
			name: "two paths",
			raw:  rawRecord(unix.SYS_RENAMEAT2, unix.EPERM, args, pathSpec(Call{Paths: []int{1, 3}}), "/a", "/b/c"),
			want: Record{Pid: 100, Tid: 101, Nr: unix.SYS_RENAMEAT2, Errno: unix.EPERM, Args: args,
				Paths: []Path{{Arg: 1, Name: "/a"}, {Arg: 3, Name: "/b/c"}}},
		},
		{
			name: "first path unreadable",
			raw:  rawRecord(unix.SYS_LINKAT, unix.EACCES, args, pathSpec(Call{Paths: []int{1, 3}}), unix.EFAULT, "/b"),
			want: Record{Pid: 100, Tid: 101, Nr: unix.SYS_LINKAT, Errno: unix.EACCES, Args: args,
				Paths: []Path{{Arg: 1, Err: unix.EFAULT}, {Arg: 3, Name: "/b"}}},
		},
		{name: "short", raw: make([]byte, recHeader-1), err: true},
		{name: "path beyond the record", raw: rawRecord(unix.SYS_OPENAT, unix.EACCES, args, pathSpec(Call{Paths: []int{1}, Flags: 3}), "/a")[:recHeader+1], err: true},
		{name: "no such argument", raw: rawRecord(unix.SYS_OPENAT, unix.EACCES, args, 7), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRecord(tc.raw)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want one: %v", err, tc.err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	ok := []Call{{Nr: unix.SYS_OPENAT, Paths: []int{1}}}
	errnos := testErrnos
	for _, tc := range []struct {
		name   string
		calls  []Call
		errnos []unix.Errno
	}{
		{name: "no call", errnos: errnos},
		{name: "no errno", calls: ok},
		{name: "negative number", calls: []Call{{Nr: -1}}, errnos: errnos},
		{name: "number out of range", calls: []Call{{Nr: maxNr}}, errnos: errnos},
		{name: "call twice", calls: append(ok, ok...), errnos: errnos},
		{name: "three paths", calls: []Call{{Nr: 1, Paths: []int{0, 1, 2}}}, errnos: errnos},
		{name: "no argument 6", calls: []Call{{Nr: 1, Paths: []int{6}}}, errnos: errnos},
		{name: "flags no argument", calls: []Call{{Nr: 1, Paths: []int{1}, Flags: 7}}, errnos: errnos},
		{name: "flags a path", calls: []Call{{Nr: 1, Paths: []int{1}, Flags: 2}}, errnos: errnos},
		{name: "errno 0", calls: ok, errnos: []unix.Errno{0}},
		{name: "errno beyond MAX_ERRNO", calls: ok, errnos: []unix.Errno{maxErrno + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w, err := Load(PIDNamespace{}, tc.calls, tc.errnos); err == nil {
				w.Close()
				t.Fatal("loaded")
			}
		})
	}
}

func TestTestCalls(t *testing.T) {
	if !archSupported {
		t.Skip("kdenials: no system call argument layout for this architecture")
	}
	if err := checkLoad(testCalls, testErrnos); err != nil {
		t.Fatal(err)
	}
}
