package apparmor

import (
	"testing"

	"github.com/agentrun/agentrun/events"
)

func TestParseAppArmorRecord(t *testing.T) {
	const p = "agentrun-test"
	for _, tc := range []struct {
		line    string
		ok      bool
		verdict events.Verdict
		kind    events.Kind
		op      string
		path    string
		process string
	}{
		{`6,1234,5678901,-;audit: type=1400 audit(1732550000.123:42): apparmor="DENIED" operation="open" class="file" profile="agentrun-test" name="/data/secret" pid=123 comm="cat" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`,
			true, events.Denied, events.KindFile, "read", "/data/secret", "cat (pid 123)"},
		{`type=AVC msg=audit(1732550000.123:43): apparmor="ALLOWED" operation="mknod" class="file" profile="agentrun-test" name="/data/new" pid=124 comm="sh" requested_mask="c" denied_mask="c" fsuid=0 ouid=0`,
			true, events.WouldDeny, events.KindFile, "create", "/data/new", "sh (pid 124)"},
		{`[  12.345678] audit: type=1400 audit(1732550000.200:44): apparmor="DENIED" operation="exec" class="file" profile="agentrun-test" name="/opt/tool" pid=125 comm="sh" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="agentrun-test//null-/opt/tool"`,
			true, events.Denied, events.KindExec, "exec", "/opt/tool", "sh (pid 125)"},
		// A path with a space comes hex-encoded.
		{`audit: type=1400 audit(1732550000.300:45): apparmor="DENIED" operation="open" class="file" profile="agentrun-test" name=2F646174612F6120622E747874 pid=126 comm="cat" requested_mask="wc" denied_mask="wc" fsuid=0 ouid=0`,
			true, events.Denied, events.KindFile, "create", "/data/a b.txt", "cat (pid 126)"},
		{`audit: type=1400 audit(1732550000.400:46): apparmor="DENIED" operation="open" class="file" profile="other" name="/etc/shadow" pid=127 comm="cat" requested_mask="r" denied_mask="r"`, false, "", "", "", "", ""},
		{`audit: type=1400 audit(1732550000.500:47): apparmor="STATUS" operation="profile_load" profile="unconfined" name="agentrun-test" pid=128 comm="apparmor_parser"`, false, "", "", "", "", ""},
		{`audit: type=1400 audit(1732550000.600:48): apparmor="DENIED" operation="create" class="net" profile="agentrun-test" pid=129 comm="ping" family="inet" sock_type="raw" protocol=1 requested_mask="create" denied_mask="create"`, false, "", "", "", "", ""},
		{`kernel: some other line`, false, "", "", "", "", ""},
	} {
		e, ok := parseAppArmorRecord(tc.line, p)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.line, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if e.Verdict != tc.verdict || e.Kind != tc.kind || e.Op != tc.op || e.Path != tc.path || e.Process != tc.process {
			t.Errorf("%s:\n got %s %s %s %s %q\nwant %s %s %s %s %q", tc.line, e.Verdict, e.Kind, e.Op, e.Path, e.Process, tc.verdict, tc.kind, tc.op, tc.path, tc.process)
		}
		if e.Rule != "apparmor profile agentrun-test" {
			t.Errorf("rule = %q", e.Rule)
		}
	}
}
