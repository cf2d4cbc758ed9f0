package netfilter

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/netip"
	"testing"
	"time"
)

// clientHello records the first flight a real TLS client sends for serverName.
func clientHello(t *testing.T, serverName string) []byte {
	t.Helper()
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		c := tls.Client(client, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
		_ = c.Handshake()
	}()
	var buf bytes.Buffer
	tmp := make([]byte, 4096)
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !SniffComplete(buf.Bytes()) {
		n, err := server.Read(tmp)
		if err != nil {
			t.Fatalf("reading the ClientHello: %v", err)
		}
		buf.Write(tmp[:n])
	}
	server.Close()
	return buf.Bytes()
}

func TestSniffName(t *testing.T) {
	hello := clientHello(t, "Allowed.Test.Example")
	if got := SniffName(hello); got != "allowed.test.example" {
		t.Errorf("SNI = %q", got)
	}
	if SniffComplete(hello[:len(hello)-1]) {
		t.Error("a truncated ClientHello counts as complete")
	}
	if got := SniffName(clientHello(t, "")); got != "" {
		t.Errorf("no SNI = %q", got)
	}
	req := []byte("GET /x HTTP/1.1\r\nHost: Evil.Test:8080\r\nUser-Agent: t\r\n\r\n")
	if !SniffComplete(req) || SniffName(req) != "evil.test" {
		t.Errorf("Host = %q, complete %v", SniffName(req), SniffComplete(req))
	}
	if SniffComplete(req[:20]) {
		t.Error("partial HTTP headers count as complete")
	}
	ssh := []byte("SSH-2.0-OpenSSH_9.2\r\n")
	if !SniffComplete(ssh) || SniffName(ssh) != "" {
		t.Errorf("SSH: %q", SniffName(ssh))
	}
	if SniffName([]byte{0x16, 3, 1, 0, 5, 1, 2}) != "" {
		t.Error("garbage TLS gave a name")
	}
}

func TestBindings(t *testing.T) {
	b := NewBindings()
	now := time.Unix(1000, 0)
	b.now = func() time.Time { return now }
	a := netip.MustParseAddr("192.0.2.10")
	b.Add("Allowed.Test.Example.", []netip.Addr{a, netip.MustParseAddr("2001:db8::10")}, time.Second)
	b.Add("other.example", []netip.Addr{a}, time.Hour)
	if got := b.Names(netip.MustParseAddr("::ffff:192.0.2.10")); len(got) != 2 || got[0] != "allowed.test.example" {
		t.Errorf("Names = %v", got)
	}
	now = now.Add(minBinding + time.Second)
	if got := b.Names(a); len(got) != 1 || got[0] != "other.example" {
		t.Errorf("after expiry Names = %v", got)
	}
}
