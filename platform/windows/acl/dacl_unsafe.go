//go:build windows

package acl

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/windows"
)

// aclBytes views an ACL in memory as bytes (its AclSize from the header).
func aclBytes(acl *windows.ACL) []byte {
	head := unsafe.Slice((*byte)(unsafe.Pointer(acl)), aclHeaderSize)
	size := int(binary.LittleEndian.Uint16(head[2:]))
	return unsafe.Slice((*byte)(unsafe.Pointer(acl)), size)
}

// aclFromBytes copies an ACL's bytes to DWORD-aligned memory and returns it as an ACL.
func aclFromBytes(b []byte) *windows.ACL {
	buf := make([]uint64, (len(b)+7)/8)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8), b)
	return (*windows.ACL)(unsafe.Pointer(&buf[0]))
}
