package apparmor

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/agentrun/agentrun/events"
)

// parseAppArmorRecord turns one AppArmor audit record into an event, from any of the places
// the kernel's records end up: the kernel log (/dev/kmsg, dmesg, journald's kernel messages,
// syslog's kern.log: `audit: type=1400 audit(…): apparmor="DENIED" …`) or auditd's
// audit.log (`type=AVC msg=audit(…): apparmor="DENIED" …`). ok is false for other lines and
// for records of other profiles than profile (every profile when profile is "").
func parseAppArmorRecord(line, profile string) (e events.Event, ok bool) {
	i := strings.Index(line, "apparmor=")
	if i < 0 {
		return e, false
	}
	f := auditFields(line[i:])
	if profile != "" && f["profile"] != profile {
		return e, false
	}
	switch f["apparmor"] {
	case "DENIED":
		e.Verdict = events.Denied
	case "ALLOWED": // complain mode: what enforce mode would deny
		e.Verdict = events.WouldDeny
	default:
		return e, false
	}
	mask := f["requested_mask"]
	if d := f["denied_mask"]; d != "" {
		mask = d
	}
	e.Kind, e.Op = events.KindFile, maskOp(mask)
	if strings.HasPrefix(f["operation"], "exec") || mask == "x" {
		e.Kind, e.Op = events.KindExec, "exec"
	}
	e.Path = f["name"]
	if e.Path == "" {
		return e, false // network and capability records: the other layers report those
	}
	if pid, err := strconv.Atoi(f["pid"]); err == nil && f["comm"] != "" {
		e.Process = f["comm"] + " (pid " + strconv.Itoa(pid) + ")"
	}
	e.Rule = "apparmor profile " + f["profile"]
	e.Reason = "AppArmor: " + f["operation"] + " " + mask
	if f["info"] != "" {
		e.Reason += " (" + f["info"] + ")"
	}
	return e, true
}

// maskOp names what an AppArmor permission mask asked for, as file events name operations.
func maskOp(mask string) string {
	switch {
	case strings.Contains(mask, "x"):
		return "exec"
	case strings.Contains(mask, "c"):
		return "create"
	case strings.Contains(mask, "d"):
		return "delete"
	case strings.ContainsAny(mask, "wa"):
		return "write"
	case strings.Contains(mask, "l"):
		return "link"
	default:
		return "read"
	}
}

// auditFields splits `key="quoted value" key=value key=HEX` pairs. Values the kernel had to
// encode (a space or quote in a path) come as unquoted hex, and are decoded.
func auditFields(s string) map[string]string {
	f := map[string]string{}
	for s != "" {
		s = strings.TrimLeft(s, " ")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			break
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				break
			}
			val, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
			if b, err := hex.DecodeString(val); err == nil && len(val) >= 2 && (key == "name" || key == "comm" || key == "profile") {
				val = string(b)
			}
		}
		f[key] = val
	}
	return f
}
