package netfilter

import (
	"net/netip"
	"testing"
)

func TestHostAddr(t *testing.T) {
	tests := []struct {
		host string
		want string // "" for a name
	}{
		{"169.254.169.254", "169.254.169.254"},
		{"2852039166", "169.254.169.254"},
		{"0xa9fea9fe", "169.254.169.254"},
		{"0XA9FEA9FE", "169.254.169.254"},
		{"0251.0376.0251.0376", "169.254.169.254"},
		{"169.254.43518", "169.254.169.254"},
		{"169.16689662", "169.254.169.254"},
		{"0xa9.0376.43518", "169.254.169.254"},
		{"169.254.169.254.", "169.254.169.254"},
		{"[::ffff:169.254.169.254]", "::ffff:169.254.169.254"},
		{"::ffff:a9fe:a9fe", "::ffff:169.254.169.254"},
		{"64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"0", "0.0.0.0"},
		{"allowed.test", ""},
		{"1.2.3.4.5", ""},
		{"256.1.1.1", ""},
		{"1.2.3.256", ""},
		{"4294967296", ""},
		{"08", ""},
		{"0x", ""},
		{"1_000", ""},
		{"-1", ""},
		{"1.2.3.example", ""},
		{"", ""},
	}
	for _, tc := range tests {
		a, ok := HostAddr(tc.host)
		if tc.want == "" {
			if ok {
				t.Errorf("HostAddr(%q) = %s, want a name", tc.host, a)
			}
			continue
		}
		if !ok || a != netip.MustParseAddr(tc.want) {
			t.Errorf("HostAddr(%q) = %s, %v; want %s", tc.host, a, ok, tc.want)
		}
	}
}
