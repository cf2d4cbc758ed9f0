package acl

import "testing"

func TestAccessMasks(t *testing.T) {
	tests := []struct {
		a    Access
		deny bool
		has  uint32
		not  uint32
	}{
		{Read, false, fileReadData | fileReadAttributes | readControl | synchronize, fileWriteData | fileExecute | accessDelete},
		{ReadExecute, false, fileReadData | fileExecute, fileWriteData | accessDelete},
		{Write, false, fileReadData | fileWriteData | fileAppendData | fileWriteAttributes | accessDelete, fileExecute | writeDAC | writeOwner},
		{WriteExecute, false, fileWriteData | fileExecute | accessDelete, writeDAC | writeOwner},
		{DenyAll, true, fileAllAccess, 0},
		{DenyWrite, true, fileWriteData | fileAppendData | accessDelete | fileDeleteChild | writeDAC | writeOwner, fileReadData | fileExecute},
		{DenyDelete, true, accessDelete | fileDeleteChild, fileWriteData | fileReadData},
		{Traverse, false, fileExecute | fileReadAttributes, fileReadData | fileWriteData | accessDelete},
	}
	for _, tc := range tests {
		t.Run(tc.a.String(), func(t *testing.T) {
			m := tc.a.Mask()
			if tc.a.Deny() != tc.deny {
				t.Errorf("Deny = %v", tc.a.Deny())
			}
			if m&tc.has != tc.has || m&tc.not != 0 {
				t.Errorf("mask %#x: want %#x set and %#x clear", m, tc.has, tc.not)
			}
			// No allow ACE ever carries FILE_DELETE_CHILD: it would let the children of a
			// directory be deleted or renamed whatever their own DACL says.
			if !tc.deny && m&fileDeleteChild != 0 {
				t.Errorf("allow mask %#x has FILE_DELETE_CHILD", m)
			}
			b, err := tc.a.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var back Access
			if err := back.UnmarshalText(b); err != nil || back != tc.a {
				t.Errorf("text %q reads back as %v, %v", b, back, err)
			}
		})
	}
	var a Access
	if a.UnmarshalText([]byte("everything")) == nil {
		t.Error("unknown access name accepted")
	}
	if _, err := Access(0).MarshalText(); err == nil {
		t.Error("Access(0) marshalled")
	}
}
