package apparmorvm

import (
	"encoding/hex"
	"regexp"
	"strings"
)

// AuditRecord is one audit record from the kernel log, field by field: apparmor, operation,
// profile, name, requested_mask, denied_mask, comm, pid, …, with the quotes removed and the
// names the kernel hex-encodes (those with spaces, quotes or control characters) decoded.
type AuditRecord map[string]string

// untrusted are the fields the kernel prints with audit_log_untrustedstring: quoted, or in
// hex when they hold a space, a quote or a control character.
var untrusted = map[string]bool{"name": true, "comm": true, "profile": true, "target": true, "peer": true}

var auditField = regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`)

// AuditRecords returns the AppArmor audit records (those with an apparmor= field) in a
// console Run returned, in order. Each appears once, from the kernel log printed after the
// script.
func AuditRecords(console string) []AuditRecord {
	var recs []AuditRecord
	for line := range strings.Lines(console) {
		_, rest, ok := strings.Cut(line, "audit: type=")
		if !ok || !strings.Contains(rest, " apparmor=") {
			continue
		}
		rec := AuditRecord{}
		for _, m := range auditField.FindAllStringSubmatch(rest, -1) {
			key, val := m[1], m[2]
			if unquoted, ok := strings.CutPrefix(val, `"`); ok {
				val = strings.TrimSuffix(unquoted, `"`)
			} else if untrusted[key] {
				if b, err := hex.DecodeString(val); err == nil {
					val = string(b)
				}
			}
			rec[key] = val
		}
		recs = append(recs, rec)
	}
	return recs
}
