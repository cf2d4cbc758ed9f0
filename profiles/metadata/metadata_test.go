package metadata

import (
	"net/netip"
	"testing"
)

func TestDeniedAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"169.254.169.254", true},
		{"169.254.0.1", true},
		{"168.63.129.16", true},
		{"100.100.100.200", true},
		{"192.0.0.192", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd00:ec2::254", true},
		{"fd00:ec2::23", true},
		{"::ffff:169.254.169.254", true},               // IPv4-mapped
		{"::a9fe:a9fe", true},                          // IPv4-compatible
		{"64:ff9b::a9fe:a9fe", true},                   // NAT64
		{"64:ff9b:1:a9fe:a9:fe00::", true},             // NAT64 local-use /48, RFC 6052 layout
		{"2002:a9fe:a9fe::1", true},                    // 6to4
		{"2001:0:a9fe:a9fe::1", true},                  // Teredo server
		{"2001:0:4136:e378:8000:63bf:5601:5601", true}, // Teredo client 169.254.169.254 inverted
		{"93.184.216.34", false},
		{"10.0.0.1", false},
		{"::ffff:93.184.216.34", false},
		{"2606:4700::1111", false},
		{"fd00:ec2::1", false},
	}
	for _, tc := range tests {
		if got := DeniedAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("DeniedAddr(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestDeniedPrefix(t *testing.T) {
	for p, want := range map[string]bool{
		"169.254.0.0/16":             true,
		"169.254.169.254/32":         true,
		"169.254.0.0/15":             false, // wider: allowing it still leaves the metadata range denied
		"0.0.0.0/0":                  false,
		"::ffff:169.254.169.254/128": true,
		"10.0.0.0/8":                 false,
	} {
		if got := DeniedPrefix(netip.MustParsePrefix(p)); got != want {
			t.Errorf("DeniedPrefix(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestDeniedName(t *testing.T) {
	for name, want := range map[string]bool{
		"metadata.google.internal":             true,
		"METADATA.GOOGLE.INTERNAL.":            true,
		"x.metadata.google.internal":           true,
		"metadata.goog":                        true,
		"instance-data.ec2.internal":           true,
		"kubernetes.default.svc":               true,
		"kubernetes.default.svc.cluster.local": true,
		"metadata.example.com":                 false,
		"api.anthropic.com":                    false,
		"google.internal":                      false,
	} {
		if got := DeniedName(name); got != want {
			t.Errorf("DeniedName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDeniedEnv(t *testing.T) {
	for name, want := range map[string]bool{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": true,
		"ECS_CONTAINER_METADATA_URI_V4":      true,
		"KUBERNETES_SERVICE_HOST":            true,
		"KUBERNETES_PORT_443_TCP":            true,
		"AWS_REGION":                         false,
		"HOME":                               false,
	} {
		if got := DeniedEnv(name); got != want {
			t.Errorf("DeniedEnv(%q) = %v, want %v", name, got, want)
		}
	}
}
