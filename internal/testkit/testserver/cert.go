// Package testserver starts the real servers ferry's tests run against:
// versitygw (an S3 gateway on a posix directory) over TLS with a throwaway
// certificate. Only tests import it.
//
// Binaries come from the project's git-ignored cache (.cache/bin, filled by
// `make testservers`) or $PATH. Under CI=true a missing binary or a server
// that will not start fails the test; elsewhere it skips with the command
// that would install it.
package testserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed certificate valid for 127.0.0.1, ::1, localhost and
// *.localhost (so virtual-hosted bucket names work), written to files.
type Cert struct {
	CertFile string // PEM certificate; also usable as a CA bundle
	KeyFile  string // PEM private key, 0600
	Pool     *x509.CertPool
	TLS      tls.Certificate
}

// NewCert makes a throwaway certificate in a temp dir removed at cleanup.
func NewCert(t testing.TB) *Cert {
	t.Helper()
	c, err := MakeCert(t.TempDir())
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	return c
}

// MakeCert writes a throwaway certificate and key into dir.
func MakeCert(dir string) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "ferry test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", "*.localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	c := &Cert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(c.CertFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.KeyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if c.TLS, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	c.Pool = x509.NewCertPool()
	c.Pool.AppendCertsFromPEM(certPEM)
	return c, nil
}
