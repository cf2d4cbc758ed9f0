//go:build windows

package appcontainer

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// What golang.org/x/sys/windows lacks: the AppContainer profile calls of userenv.dll, the
// capability SIDs of kernelbase.dll, and the attributes and job structures below.
var (
	userenv                                       = windows.NewLazySystemDLL("userenv.dll")
	procCreateAppContainerProfile                 = userenv.NewProc("CreateAppContainerProfile")
	procDeleteAppContainerProfile                 = userenv.NewProc("DeleteAppContainerProfile")
	procDeriveAppContainerSidFromAppContainerName = userenv.NewProc("DeriveAppContainerSidFromAppContainerName")
	procGetAppContainerFolderPath                 = userenv.NewProc("GetAppContainerFolderPath")
	kernelbase                                    = windows.NewLazySystemDLL("kernelbase.dll")
	procDeriveCapabilitySidsFromName              = kernelbase.NewProc("DeriveCapabilitySidsFromName")
	kernel32                                      = windows.NewLazySystemDLL("kernel32.dll")
	procUpdateProcThreadAttribute                 = kernel32.NewProc("UpdateProcThreadAttribute")
)

const (
	procThreadAttributeSecurityCapabilities         = 0x00020009 // PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES
	procThreadAttributeAllApplicationPackagesPolicy = 0x0002000F // PROC_THREAD_ATTRIBUTE_ALL_APPLICATION_PACKAGES_POLICY
	allApplicationPackagesOptOut                    = 1          // PROCESS_CREATION_ALL_APPLICATION_PACKAGES_OPT_OUT

	jobObjectCPURateControlEnable  = 0x1 // JOB_OBJECT_CPU_RATE_CONTROL_ENABLE
	jobObjectCPURateControlHardCap = 0x4 // JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP
)

// securityCapabilities is SECURITY_CAPABILITIES (winnt.h).
type securityCapabilities struct {
	AppContainerSid *windows.SID
	Capabilities    *windows.SIDAndAttributes
	CapabilityCount uint32
	Reserved        uint32
}

// jobCPURate is JOBOBJECT_CPU_RATE_CONTROL_INFORMATION with its union as CpuRate.
type jobCPURate struct {
	ControlFlags uint32
	CpuRate      uint32
}

// jobCompletionPort is JOBOBJECT_ASSOCIATE_COMPLETION_PORT.
type jobCompletionPort struct {
	CompletionKey  uintptr
	CompletionPort windows.Handle
}

// hresult is an HRESULT as an error: nil when it succeeded, the Win32 error it wraps
// (FACILITY_WIN32), else the HRESULT itself.
func hresult(r uintptr) error {
	if int32(r) >= 0 {
		return nil
	}
	if uint32(r)&0xFFFF0000 == 0x80070000 {
		return syscall.Errno(uint32(r) & 0xFFFF)
	}
	return fmt.Errorf("HRESULT %#08x", uint32(r))
}

func utf16Ptr(s string) (uintptr, error) {
	p, err := windows.UTF16PtrFromString(s)
	return uintptr(unsafe.Pointer(p)), err
}

// takeSID copies a SID Windows allocated into Go's memory and frees Windows' copy.
func takeSID(sid *windows.SID) (*windows.SID, error) {
	defer windows.FreeSid(sid)
	return sid.Copy()
}

func createAppContainerProfile(name, displayName, description string) (*windows.SID, error) {
	n, err := utf16Ptr(name)
	if err != nil {
		return nil, err
	}
	d, err := utf16Ptr(displayName)
	if err != nil {
		return nil, err
	}
	desc, err := utf16Ptr(description)
	if err != nil {
		return nil, err
	}
	var sid *windows.SID
	r, _, _ := procCreateAppContainerProfile.Call(n, d, desc, 0, 0, uintptr(unsafe.Pointer(&sid)))
	if err := hresult(r); err != nil {
		return nil, err
	}
	return takeSID(sid)
}

func deriveAppContainerSid(name string) (*windows.SID, error) {
	n, err := utf16Ptr(name)
	if err != nil {
		return nil, err
	}
	var sid *windows.SID
	r, _, _ := procDeriveAppContainerSidFromAppContainerName.Call(n, uintptr(unsafe.Pointer(&sid)))
	if err := hresult(r); err != nil {
		return nil, err
	}
	return takeSID(sid)
}

func deleteAppContainerProfile(name string) error {
	n, err := utf16Ptr(name)
	if err != nil {
		return err
	}
	r, _, _ := procDeleteAppContainerProfile.Call(n)
	return hresult(r)
}

func appContainerFolderPath(sid string) (string, error) {
	s, err := utf16Ptr(sid)
	if err != nil {
		return "", err
	}
	var path *uint16
	r, _, _ := procGetAppContainerFolderPath.Call(s, uintptr(unsafe.Pointer(&path)))
	if err := hresult(r); err != nil {
		return "", err
	}
	defer windows.CoTaskMemFree(unsafe.Pointer(path))
	return windows.UTF16PtrToString(path), nil
}

// deriveCapabilitySID is the capability SID of a capability name
// (DeriveCapabilitySidsFromName; its group SIDs are not used).
func deriveCapabilitySID(name string) (*windows.SID, error) {
	n, err := utf16Ptr(name)
	if err != nil {
		return nil, err
	}
	var groups, caps **windows.SID
	var nGroups, nCaps uint32
	r, _, e := procDeriveCapabilitySidsFromName.Call(n,
		uintptr(unsafe.Pointer(&groups)), uintptr(unsafe.Pointer(&nGroups)),
		uintptr(unsafe.Pointer(&caps)), uintptr(unsafe.Pointer(&nCaps)))
	if r == 0 {
		return nil, e
	}
	free := func(p **windows.SID, n uint32) {
		if p == nil {
			return
		}
		for _, s := range unsafe.Slice(p, n) {
			windows.LocalFree(windows.Handle(unsafe.Pointer(s)))
		}
		windows.LocalFree(windows.Handle(unsafe.Pointer(p)))
	}
	defer free(groups, nGroups)
	defer free(caps, nCaps)
	if nCaps == 0 {
		return nil, fmt.Errorf("no capability SID")
	}
	return unsafe.Slice(caps, nCaps)[0].Copy()
}

// attributeList is the proc-thread attribute list of Start: the AppContainer and its
// capabilities, LPAC's opt-out, and the pseudo console or the handles to inherit.
type attributeList struct {
	*windows.ProcThreadAttributeListContainer
	sc     *securityCapabilities
	optOut *uint32
}

func newAttributeList(sid *windows.SID, caps []windows.SIDAndAttributes, lpac bool, console windows.Handle, handles []windows.Handle) (*attributeList, error) {
	al, err := windows.NewProcThreadAttributeList(3)
	if err != nil {
		return nil, fmt.Errorf("allocating a proc-thread attribute list: %w", err)
	}
	a := &attributeList{ProcThreadAttributeListContainer: al}
	if sid != nil {
		a.sc = &securityCapabilities{AppContainerSid: sid}
		if len(caps) > 0 {
			a.sc.Capabilities, a.sc.CapabilityCount = &caps[0], uint32(len(caps))
		}
		if err := al.Update(procThreadAttributeSecurityCapabilities, unsafe.Pointer(a.sc), unsafe.Sizeof(*a.sc)); err != nil {
			al.Delete()
			return nil, fmt.Errorf("setting the AppContainer's security capabilities: %w", err)
		}
	}
	if lpac {
		a.optOut = new(uint32)
		*a.optOut = allApplicationPackagesOptOut
		if err := al.Update(procThreadAttributeAllApplicationPackagesPolicy, unsafe.Pointer(a.optOut), unsafe.Sizeof(*a.optOut)); err != nil {
			al.Delete()
			return nil, fmt.Errorf("making the AppContainer less privileged (LPAC; Windows 10 1703 or later): %w", err)
		}
	}
	switch {
	case console != 0:
		// The value of PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE is the HPCON itself, not a
		// pointer to it: UpdateProcThreadAttribute is called directly so that no handle
		// passes for a Go pointer.
		r, _, e := procUpdateProcThreadAttribute.Call(uintptr(unsafe.Pointer(al.List())), 0,
			windows.PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE, uintptr(console), unsafe.Sizeof(console), 0, 0)
		if r == 0 {
			al.Delete()
			return nil, fmt.Errorf("attaching the pseudo console: %w", e)
		}
	case len(handles) > 0:
		if err := al.Update(windows.PROC_THREAD_ATTRIBUTE_HANDLE_LIST, unsafe.Pointer(&handles[0]), uintptr(len(handles))*unsafe.Sizeof(handles[0])); err != nil {
			al.Delete()
			return nil, fmt.Errorf("listing the handles to inherit: %w", err)
		}
	}
	return a, nil
}

// createProcess is CreateProcessW with an extended STARTUPINFO.
func createProcess(path, cmdLine string, inherit bool, flags uint32, env []uint16, dir string, si *windows.StartupInfoEx) (*windows.ProcessInformation, error) {
	app, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	line, err := windows.UTF16FromString(cmdLine) // writable, as CreateProcessW wants
	if err != nil {
		return nil, err
	}
	var cwd *uint16
	if dir != "" {
		if cwd, err = windows.UTF16PtrFromString(dir); err != nil {
			return nil, err
		}
	}
	si.Cb = uint32(unsafe.Sizeof(*si))
	pi := new(windows.ProcessInformation)
	err = windows.CreateProcess(app, &line[0], nil, nil, inherit, flags, &env[0], cwd, &si.StartupInfo, pi)
	return pi, err
}

func setJobLimits(job windows.Handle, info *windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) error {
	_, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(info)), uint32(unsafe.Sizeof(*info)))
	return err
}

func setJobCPURate(job windows.Handle, rate uint32) error {
	info := jobCPURate{ControlFlags: jobObjectCPURateControlEnable | jobObjectCPURateControlHardCap, CpuRate: rate}
	_, err := windows.SetInformationJobObject(job, windows.JobObjectCpuRateControlInformation, uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	return err
}

func setJobCompletionPort(job, port windows.Handle) error {
	info := jobCompletionPort{CompletionKey: uintptr(job), CompletionPort: port}
	_, err := windows.SetInformationJobObject(job, windows.JobObjectAssociateCompletionPortInformation, uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	return err
}

// jobAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION.
type jobAccounting struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

func queryJobAccounting(job windows.Handle) (jobAccounting, error) {
	var info jobAccounting
	err := windows.QueryInformationJobObject(job, windows.JobObjectBasicAccountingInformation, uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	return info, err
}
