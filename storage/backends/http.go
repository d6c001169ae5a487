package backends

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/httplist"
)

// openHTTP builds a URL-list source. It reads nothing yet: the list is
// sorted on the first List, Stat or Open (see storage/httplist).
func openHTTP(s Spec) (storage.Backend, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Compressed answers would change the bytes and sizes ferry verifies.
	tr.DisableCompression = true
	tr.MaxIdleConnsPerHost = 64
	tr.ResponseHeaderTimeout = time.Minute
	tr.DialContext = storage.DialLoopbackNames
	if s.DialContext != nil {
		tr.DialContext = s.DialContext
	}
	if s.CABundle != "" {
		pem, err := os.ReadFile(s.CABundle)
		if err != nil {
			return nil, fmt.Errorf("reading the CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the CA bundle %s holds no PEM certificate", s.CABundle)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	o := httplist.Options{
		ListFile: s.ListFile, PrefixColumn: s.PrefixColumn, RelativeColumn: s.RelativeColumn,
		Header: s.Header, Client: &http.Client{Transport: tr},
	}
	if s.OnSkip != nil {
		o.OnSkip = s.OnSkip
	}
	if s.AccessKey != "" {
		o.Signer = httplist.OSSSigner{AccessKey: s.AccessKey, SecretKey: s.SecretKey,
			SecurityToken: s.SessionToken, Bucket: s.SignBucket}
	}
	return httplist.New(o)
}
