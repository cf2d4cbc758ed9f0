//go:build windows

package acl

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/windows"
)

// NewEditor returns the Editor that changes files' DACLs with GetNamedSecurityInfo and
// SetNamedSecurityInfo.
//
// SetNamedSecurityInfo propagates inheritable ACEs to every existing object under a
// directory (learn.microsoft.com "Automatic Propagation of Inheritable ACEs"): granting or
// revoking an inheriting ACE on a write root rewrites the DACL of each file beneath it, a
// cost proportional to the tree (seconds for a large node_modules), paid at grant and again
// at revocation. SetNamedSecurityInfo imposes the inheritance model on everything below the
// object even when no inheritable ACE changed, so a change of ACEs that do not inherit (a
// Traverse on the home, a DenyDelete on an ancestor) is written to the object alone with
// SetKernelObjectSecurity on the handle, which propagates nothing. A DACL that would not
// change is not written, so a Remove with nothing to remove costs one read.
func NewEditor() Editor { return winEditor{} }

type winEditor struct{}

func (winEditor) Apply(sid string, g Grant) error {
	if err := g.check(); err != nil {
		return err
	}
	b, err := sidBytes(sid)
	if err != nil {
		return err
	}
	a := aceFor(b, g)
	return editDACL(g.Path, false, func(aces []ace) []ace { return withACE(aces, a) })
}

func (winEditor) Set(sid string, path string, keep []Grant) error {
	b, err := sidBytes(sid)
	if err != nil {
		return err
	}
	for _, g := range keep {
		if err := g.check(); err != nil {
			return err
		}
	}
	return editDACL(path, true, func(aces []ace) []ace {
		next, _ := withoutSID(aces, b)
		for _, g := range keep {
			next = withACE(next, aceFor(b, g))
		}
		return next
	})
}

// editDACL rewrites path's DACL with change. The path is first opened without following a
// reparse point and without FILE_SHARE_DELETE: a symbolic link or junction is refused, and
// while the handle is open nobody can rename or delete the object (nor, on NTFS, rename a
// directory above it), so the name given to SetNamedSecurityInfo keeps naming it.
func editDACL(path string, missingOK bool, change func([]ace) []ace) error {
	h, err := openNoFollow(path)
	if missingOK && (errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND)) {
		return nil
	}
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)

	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("reading the DACL of %s: %w", path, err)
	}
	control, _, err := sd.Control()
	if err != nil {
		return fmt.Errorf("reading the DACL of %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return fmt.Errorf("%s has no DACL (everyone has full access); agentrun does not change such an object: give it a DACL first (icacls %s /reset)", path, path)
	}
	rev, aces, err := parseACL(aclBytes(dacl))
	if err != nil {
		return fmt.Errorf("reading the DACL of %s: %w", path, err)
	}
	next := change(aces)
	if slices.EqualFunc(aces, next, func(a, b ace) bool { return string(a.raw) == string(b.raw) }) {
		return nil
	}
	b, err := marshalACL(rev, next)
	if err != nil {
		return fmt.Errorf("writing the DACL of %s: %w", path, err)
	}
	if !inheritableChange(aces, next) {
		return setOwnDACL(h, path, b, control)
	}
	info := windows.SECURITY_INFORMATION(windows.DACL_SECURITY_INFORMATION)
	if control&windows.SE_DACL_PROTECTED != 0 {
		info |= windows.PROTECTED_DACL_SECURITY_INFORMATION
	} else {
		info |= windows.UNPROTECTED_DACL_SECURITY_INFORMATION
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, info, nil, nil, aclFromBytes(b), nil); err != nil {
		return fmt.Errorf("writing the DACL of %s: %w", path, err)
	}
	return nil
}

// openNoFollow opens path itself (FILE_FLAG_OPEN_REPARSE_POINT), never what a link points
// to, and refuses it when it is a reparse point.
func openNoFollow(path string) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, fmt.Errorf("opening %q: %w", path, err)
	}
	h, err := windows.CreateFile(p, windows.READ_CONTROL|windows.WRITE_DAC|windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", path, err)
	}
	var fi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &fi); err != nil {
		windows.CloseHandle(h)
		return 0, fmt.Errorf("reading the attributes of %s: %w", path, err)
	}
	if fi.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		windows.CloseHandle(h)
		return 0, fmt.Errorf("%s is a symbolic link or junction (a reparse point): agentrun never grants "+
			"an AppContainer access through a link; name the real directory in the profile", path)
	}
	return h, nil
}

// setOwnDACL writes the DACL of the object open at h only, keeping its protected and
// auto-inherited bits.
func setOwnDACL(h windows.Handle, path string, dacl []byte, control windows.SECURITY_DESCRIPTOR_CONTROL) error {
	sd, err := windows.NewSecurityDescriptor()
	if err == nil {
		err = sd.SetDACL(aclFromBytes(dacl), true, false)
	}
	if err == nil {
		bits := windows.SECURITY_DESCRIPTOR_CONTROL(windows.SE_DACL_PROTECTED | windows.SE_DACL_AUTO_INHERITED)
		err = sd.SetControl(bits, control&bits)
	}
	if err == nil {
		err = windows.SetKernelObjectSecurity(h, windows.DACL_SECURITY_INFORMATION, sd)
	}
	if err != nil {
		return fmt.Errorf("writing the DACL of %s: %w", path, err)
	}
	return nil
}
