package profiles

import (
	"strings"
	"testing"
)

func TestParseNetRule(t *testing.T) {
	tests := []struct {
		name, in string
		udp      bool
		want     string // the rule in canonical form; empty when an error is expected
		err      string // a part of the expected error
	}{
		{name: "host defaults to 443", in: "api.anthropic.com", want: "api.anthropic.com:443"},
		{name: "host with port", in: "github.com:22", want: "github.com:22"},
		{name: "ports sorted", in: "example.com:443,80", want: "example.com:80,443"},
		{name: "port range", in: "example.com:8000-8100", want: "example.com:8000-8100"},
		{name: "upper case folded", in: "API.Example.COM", want: "api.example.com:443"},
		{name: "trailing dot", in: "example.com.", want: "example.com:443"},
		{name: "unicode name to punycode", in: "bücher.example", want: "xn--bcher-kva.example:443"},
		{name: "wildcard", in: "*.githubusercontent.example.com:443", want: "*.githubusercontent.example.com:443"},
		{name: "registrable wildcard", in: "*.anthropic.com", want: "*.anthropic.com:443"},
		{name: "ipv4", in: "192.0.2.10:443", want: "192.0.2.10:443"},
		{name: "cidr", in: "10.0.0.0/8:22", want: "10.0.0.0/8:22"},
		{name: "bare ipv6", in: "2001:db8::1", want: "[2001:db8::1]:443"},
		{name: "bracketed ipv6 port", in: "[2001:db8::1]:8443", want: "[2001:db8::1]:8443"},
		{name: "ipv6 cidr", in: "[2001:db8::/32]:443", want: "[2001:db8::/32]:443"},
		{name: "everything", in: "0.0.0.0/0:1-65535", want: "0.0.0.0/0:1-65535"},
		{name: "udp needs port", in: "ntp.example.com", udp: true, err: "needs a port"},
		{name: "udp with port", in: "ntp.example.com:123", udp: true, want: "ntp.example.com:123"},

		{name: "star", in: "*", err: "every host"},
		{name: "star port", in: "*:443", err: "every host"},
		{name: "public suffix wildcard", in: "*.com", err: "public suffix"},
		{name: "two-label public suffix", in: "*.co.uk", err: "public suffix"},
		{name: "private public suffix", in: "*.githubusercontent.com", err: "public suffix"},
		{name: "unknown tld wildcard", in: "*.test", err: "public suffix"},
		{name: "public suffix host", in: "co.uk", err: "public suffix"},
		{name: "inner wildcard", in: "foo.*.com", err: "whole first label"},
		{name: "glued wildcard", in: "*example.com", err: "whole first label"},
		{name: "url", in: "https://api.example.com/v1", err: `"api.example.com:443"`},
		{name: "http url", in: "http://example.com", err: `"example.com:80"`},
		{name: "path", in: "example.com/foo", err: "cannot contain \"/\""},
		{name: "single label", in: "localhost", err: "single-label"},
		{name: "underscore", in: "my_host.example.com", err: "not a valid host name"},
		{name: "long label", in: strings.Repeat("a", 64) + ".example.com", err: "not a valid host name"},
		{name: "port zero", in: "example.com:0", err: "out of range"},
		{name: "port too big", in: "example.com:70000", err: "out of range"},
		{name: "port word", in: "example.com:https", err: "not a port number"},
		{name: "backwards range", in: "example.com:90-80", err: "backwards"},
		{name: "duplicate port", in: "example.com:443,443", err: "listed twice"},
		{name: "overlapping ports", in: "example.com:80-90,85", err: "listed twice"},
		{name: "empty port", in: "example.com:", err: "no port"},
		{name: "ipv6 without brackets", in: "2001:db8::1:443:x", err: "[ADDRESS]:PORT"},
		{name: "host bits set", in: "10.0.0.1/8", err: "write 10.0.0.0/8"},
		{name: "bad cidr", in: "10.0.0.0/33", err: "not a valid CIDR"},
		{name: "bad ip", in: "300.1.1.1", err: "not a valid IP"},
		{name: "metadata ip", in: "169.254.169.254:80", err: "always denied"},
		{name: "link-local range", in: "169.254.0.0/16", err: "always denied"},
		{name: "metadata inside mapped ipv6", in: "::ffff:169.254.169.254", err: "always denied"},
		{name: "metadata nat64", in: "64:ff9b::a9fe:a9fe", err: "always denied"},
		{name: "azure wire server", in: "168.63.129.16", err: "always denied"},
		{name: "metadata name", in: "metadata.google.internal", err: "always denied"},
		{name: "metadata name any case", in: "Metadata.Google.Internal.", err: "always denied"},
		{name: "none", in: "none", err: "network: none"},
		{name: "empty", in: "", err: "empty"},
		{name: "space", in: "a.example.com b.example.com", err: "space"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseNetRule(tc.in, tc.udp)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("parseNetRule(%q) = %s, want an error containing %q", tc.in, r, tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseNetRule(%q) error = %q, want it to contain %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseNetRule(%q): %v", tc.in, err)
			}
			if got := r.String(); got != tc.want {
				t.Errorf("parseNetRule(%q) = %s, want %s", tc.in, got, tc.want)
			}
			// The canonical form parses back to itself.
			again, err := parseNetRule(r.String(), tc.udp)
			if err != nil || again.String() != r.String() {
				t.Errorf("round trip of %s: %v, %v", r, again, err)
			}
		})
	}
}
