package apparmorvm

import (
	"reflect"
	"testing"
)

// TestAuditRecords reads records as Debian's 6.1 kernel prints them.
func TestAuditRecords(t *testing.T) {
	console := `agentrun-vm: kernel log
[    0.469616] audit: type=2000 audit(1795628987.500:1): state=initialized audit_enabled=0 res=1
[    1.866597] audit: type=1400 audit(1795628989.440:3): apparmor="DENIED" operation="open" profile="agentrun-vm-test" name=2F7372762F612062 pid=115 comm="cat" requested_mask="r" denied_mask="r" fsuid=0 ouid=0
enforce denied: apparmor="DENIED" printed by the script
`
	want := []AuditRecord{{
		"apparmor": "DENIED", "operation": "open", "profile": "agentrun-vm-test", "name": "/srv/a b",
		"pid": "115", "comm": "cat", "requested_mask": "r", "denied_mask": "r", "fsuid": "0", "ouid": "0",
	}}
	if got := AuditRecords(console); !reflect.DeepEqual(got, want) {
		t.Errorf("AuditRecords = %v, want %v", got, want)
	}
}
