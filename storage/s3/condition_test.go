package s3_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// TestConditionalWriteAnswers: how each answer a store may give to a
// conditional write is classified. Real stores produce the common ones in
// TestCheckThenWriteRace and the conformance suite; these are the ones
// versitygw never gives (OSS's 409, S3's conflict, a store that does not
// implement the header).
func TestConditionalWriteAnswers(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		code     string
		cond     storage.Condition
		sentinel error
		class    storage.Class
	}{
		{"S3 precondition failed", 412, "PreconditionFailed", storage.IfAbsent(), storage.ErrPrecondition, storage.Permanent},
		{"OSS forbid-overwrite", 409, "FileAlreadyExists", storage.IfAbsent(), storage.ErrPrecondition, storage.Permanent},
		{"S3 if-match on a missing key", 404, "NoSuchKey", storage.Condition{IfMatch: storage.Version{ETag: "abc"}}, storage.ErrPrecondition, storage.Permanent},
		{"S3 concurrent conditional writes", 409, "ConditionalRequestConflict", storage.IfAbsent(), storage.ErrUnavailable, storage.Retryable},
		{"header not implemented", 501, "NotImplemented", storage.IfAbsent(), storage.ErrConditionUnsupported, storage.Permanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, "<Error><Code>%s</Code><Message>refused</Message></Error>", tc.code)
			}))
			t.Cleanup(srv.Close)
			t.Setenv("AWS_CA_BUNDLE", "")
			b, err := s3.New(t.Context(), s3.Config{Endpoint: srv.URL, Bucket: "b", AccessKey: "a", SecretKey: "s",
				PathStyle: true, CABundle: writeCA(t, srv), Checksums: s3.ChecksumWhenRequired})
			require.NoError(t, err)
			_, err = b.Put(t.Context(), "k", strings.NewReader("x"), storage.ObjectInfo{Size: 1, Condition: tc.cond})
			require.ErrorIs(t, err, tc.sentinel)
			assert.Equal(t, tc.class, storage.Classify(err))
			assert.Contains(t, err.Error(), tc.code, "the store's own code stays in the message")
		})
	}
}

// TestOSSFlavourRefusesIfMatchUpFront: OSS has no If-Match on writes, so
// the OSS flavour refuses the condition without sending anything.
func TestOSSFlavourRefusesIfMatchUpFront(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_CA_BUNDLE", "")
	b, err := s3.New(t.Context(), s3.Config{Endpoint: srv.URL, Bucket: "b", AccessKey: "a", SecretKey: "s",
		Flavor: s3.FlavorOSS, CABundle: writeCA(t, srv)})
	require.NoError(t, err)
	_, err = b.Put(t.Context(), "k", strings.NewReader("x"),
		storage.ObjectInfo{Size: 1, Condition: storage.Condition{IfMatch: storage.Version{ETag: "ABC"}}})
	require.ErrorIs(t, err, storage.ErrConditionUnsupported)
	assert.Equal(t, storage.Permanent, storage.Classify(err))
	assert.Zero(t, requests.Load(), "nothing was sent")
}
