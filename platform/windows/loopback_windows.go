package windows

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/agentrun/agentrun/platform/windows/appcontainer"
)

// The loopback exemption list (FirewallAPI.dll, Windows 8 and later): the AppContainers
// allowed to send traffic to the loopback, which agentrun's proxy listens on. Reading it needs
// no privilege; changing it needs an administrator.
var (
	firewallAPI               = windows.NewLazySystemDLL("FirewallAPI.dll")
	procGetAppContainerConfig = firewallAPI.NewProc("NetworkIsolationGetAppContainerConfig")
	procSetAppContainerConfig = firewallAPI.NewProc("NetworkIsolationSetAppContainerConfig")
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	procGetProcessHeap        = kernel32.NewProc("GetProcessHeap")
	procHeapFree              = kernel32.NewProc("HeapFree")
)

// loopbackExempt returns the SIDs (string form) on the exemption list.
func loopbackExempt() (map[string]bool, error) {
	if err := procGetAppContainerConfig.Find(); err != nil {
		return nil, fmt.Errorf("reading the loopback exemptions: %w", err)
	}
	var n uint32
	var list *windows.SIDAndAttributes
	if r, _, _ := procGetAppContainerConfig.Call(uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&list))); r != 0 {
		return nil, fmt.Errorf("reading the loopback exemptions: %w", windows.Errno(r))
	}
	out := map[string]bool{}
	if list == nil {
		return out, nil
	}
	heap, _, _ := procGetProcessHeap.Call()
	entries := unsafe.Slice(list, n)
	for _, e := range entries {
		if e.Sid != nil {
			out[e.Sid.String()] = true
			procHeapFree.Call(heap, 0, uintptr(unsafe.Pointer(e.Sid)))
		}
	}
	procHeapFree.Call(heap, 0, uintptr(unsafe.Pointer(list)))
	return out, nil
}

// exemptFromLoopback adds the containers named to the exemption list, keeping every entry
// already there, and returns the names it added. It needs an administrator.
func exemptFromLoopback(names []string) ([]string, error) {
	have, err := loopbackExempt()
	if err != nil {
		return nil, err
	}
	var sids []*windows.SID
	for s := range have {
		sid, err := windows.StringToSid(s)
		if err != nil {
			return nil, fmt.Errorf("reading the loopback exemptions: %q: %w", s, err)
		}
		sids = append(sids, sid)
	}
	var added []string
	for _, n := range names {
		sid, err := appcontainer.DeriveSID(n)
		if err != nil {
			return nil, err
		}
		if !have[sid.String()] {
			sids = append(sids, sid)
			added = append(added, n)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	entries := make([]windows.SIDAndAttributes, len(sids))
	for i, s := range sids {
		entries[i].Sid = s
	}
	if r, _, _ := procSetAppContainerConfig.Call(uintptr(len(entries)), uintptr(unsafe.Pointer(&entries[0]))); r != 0 {
		if windows.Errno(r) == windows.ERROR_ACCESS_DENIED {
			return nil, fmt.Errorf("exempting %v from loopback isolation: access denied: %s", added, SetupFix)
		}
		return nil, fmt.Errorf("exempting %v from loopback isolation: %w", added, windows.Errno(r))
	}
	return added, nil
}
