package cmdline

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
)

// EnvBlock is env (NAME=VALUE entries) as the environment block CreateProcess takes with
// CREATE_UNICODE_ENVIRONMENT: UTF-16 entries each ended by a NUL, the block ended by one more.
// Entries are sorted as Windows requires (case-insensitively, by upper-cased UTF-16 code
// units, the "=C:=C:\dir" entries that remember each drive's directory first); of names equal
// but for case the last entry wins. An entry holding a NUL, without '=' or with an empty name
// is an error naming it.
func EnvBlock(env []string) ([]uint16, error) {
	type entry struct {
		key  []uint16 // the name upper-cased, to sort and to compare
		text string
	}
	byKey := map[string]int{}
	var entries []entry
	for _, e := range env {
		if strings.ContainsRune(e, 0) {
			return nil, fmt.Errorf("the environment entry %q holds a NUL, which a Windows environment block cannot carry", e)
		}
		// A drive entry's name starts with '=': the separator is the first '=' after it.
		eq := strings.IndexByte(e[min(1, len(e)):], '=')
		if eq < 0 && !strings.HasPrefix(e, "=") {
			return nil, fmt.Errorf("the environment entry %q has no '=': each entry is NAME=VALUE", e)
		}
		name := e[:max(0, eq+min(1, len(e)))]
		if eq < 0 || name == "=" {
			return nil, fmt.Errorf("the environment entry %q has an empty name: each entry is NAME=VALUE", e)
		}
		key := upper(name)
		if i, ok := byKey[string(utf16Bytes(key))]; ok {
			entries[i].text = e
			continue
		}
		byKey[string(utf16Bytes(key))] = len(entries)
		entries = append(entries, entry{key, e})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if da, db := a.key[0] == '=', b.key[0] == '='; da != db {
			if da {
				return -1
			}
			return 1
		}
		return slices.Compare(a.key, b.key)
	})
	var block []uint16
	for _, e := range entries {
		block = append(block, utf16.Encode([]rune(e.text))...)
		block = append(block, 0)
	}
	return append(block, 0), nil
}

// upper is name in UTF-16 with each code unit outside the surrogates upper-cased on its own,
// as Windows compares names (RtlCompareUnicodeString, case-insensitively).
func upper(name string) []uint16 {
	u := utf16.Encode([]rune(name))
	for i, c := range u {
		if !utf16.IsSurrogate(rune(c)) {
			if r := unicode.ToUpper(rune(c)); r <= 0xFFFF {
				u[i] = uint16(r)
			}
		}
	}
	return u
}

// utf16Bytes is u as a string-able byte slice, a map key.
func utf16Bytes(u []uint16) []byte {
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return b
}
