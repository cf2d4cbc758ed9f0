package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fake internet's certificate authority: made afresh for each fake internet, it signs the
// servers' one certificate, for every name of the zone and the servers' address. An agent
// that trusts it (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) talks TLS to the fake internet as it
// does to the real one; nothing else trusts it, and its key never leaves the test's directory.
const (
	fakeCertFile = "server-cert.pem" // in the fake internet's directory: the server's chain
	fakeKeyFile  = "server-key.pem"
	fakeCAFile   = "ca.pem"
)

// writeFakeCA makes the authority and the servers' certificate in dir.
func writeFakeCA(t testing.TB, dir string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agentrun fake internet CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "fake internet"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP(inetAddr)},
	}
	for name := range fakeZone {
		leaf.DNSNames = append(leaf.DNSNames, strings.TrimSuffix(name, "."))
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for name, b := range map[string][]byte{
		fakeCertFile: append(certPEM, caPEM...),
		fakeKeyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		fakeCAFile:   caPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// trustedCA copies the fake internet's authority to a file the sandbox can read (base reads
// /opt; the test's directories are not in the sandbox's view), for the agents' CA variables.
func (f *fakeInternet) trustedCA(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, fakeCAFile))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp("/opt", "agentrun-fake-ca-*.pem")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(out.Name()) })
	defer out.Close()
	if _, err := out.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := out.Chmod(0o644); err != nil {
		t.Fatal(err)
	}
	return out.Name()
}
