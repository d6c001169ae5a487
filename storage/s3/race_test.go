package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// TestCheckThenWriteRace is issue 11's race, on each destination that
// enforces a conditional write: ferry checks the destination (Stat, a
// HEAD), the application writes the object at that very moment (the
// proxy does it on cue, before the HEAD's answer reaches ferry), then
// ferry writes under the condition its check justified. The write is
// refused with ErrPrecondition, not retried, and the application's object
// survives byte for byte.
//
// The OSS flavour's create-only header is enforced by the proxy; the S3
// flavour's If-None-Match and If-Match go through the proxy to versitygw,
// which enforces them.
func TestCheckThenWriteRace(t *testing.T) {
	srv, p, ossCfg := ossSetup(t)
	srv.CreateBucket(t, "race")
	ossCfg.Bucket = "race"
	s3Cfg := ossCfg
	s3Cfg.Flavor, s3Cfg.Checksums = s3.FlavorS3, s3.ChecksumWhenRequired // the proxy refuses aws-chunked
	ctx := t.Context()
	app := []byte("the application's object, written after T2")
	ours := []byte("ferry's copy from the source, older")

	cases := []struct {
		name      string
		cfg       s3.Config
		multipart bool
		ifMatch   bool // the key holds an earlier object; the check sees it
	}{
		{"oss put if-absent", ossCfg, false, false},
		{"oss complete if-absent", ossCfg, true, false},
		{"s3 put if-absent", s3Cfg, false, false},
		{"s3 complete if-absent", s3Cfg, true, false},
		{"s3 put if-match", s3Cfg, false, true},
		{"s3 complete if-match", s3Cfg, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "cutover/" + strings.ReplaceAll(tc.name, " ", "-")
			raw, err := s3.New(ctx, tc.cfg)
			require.NoError(t, err)
			b := retry.New(raw, retry.Policy{})
			if tc.ifMatch {
				_, err := b.Put(ctx, key, strings.NewReader("an earlier version"), storage.ObjectInfo{Size: 18})
				require.NoError(t, err)
			}
			p.WriteOnCue(ossproxy.Cue{Method: http.MethodHead, Key: key, Body: app})

			checked, err := b.Stat(ctx, key)
			cond := storage.IfAbsent()
			if tc.ifMatch {
				require.NoError(t, err)
				cond = storage.IfMatch(checked)
			} else {
				require.ErrorIs(t, err, storage.ErrNotFound, "the check finds no object")
			}
			require.Zero(t, p.PendingCues(), "the application wrote between the check and the write")

			before := len(p.Requests())
			err = write(ctx, t, b, key, ours, cond, tc.multipart)
			require.ErrorIs(t, err, storage.ErrPrecondition, "the conditional write is refused")
			assert.Equal(t, storage.Permanent, storage.Classify(err), "a refusal is an answer, not a failure to retry")
			writes := 0
			for _, s := range p.Requests()[before:] {
				if s.Key == key && (s.Method == http.MethodPut && !strings.Contains(s.Query, "partNumber") ||
					s.Method == http.MethodPost && strings.Contains(s.Query, "uploadId")) {
					writes++
					h := s.Header
					if tc.cfg.Flavor == s3.FlavorOSS {
						assert.Equal(t, "true", h.Get(ossproxy.HeaderForbidOverwrite), "OSS's create-only header")
						assert.Empty(t, h.Get("If-None-Match")+h.Get("If-Match"), "no S3 header OSS would not enforce")
					} else {
						assert.Empty(t, h.Get(ossproxy.HeaderForbidOverwrite))
						assert.Equal(t, tc.ifMatch, h.Get("If-Match") != "", "If-Match sent")
						assert.Equal(t, !tc.ifMatch, h.Get("If-None-Match") == "*", "If-None-Match: * sent")
					}
				}
			}
			assert.Equal(t, 1, writes, "the refused write was sent once, not retried")

			rc, _, err := b.Open(ctx, key, 0, -1)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
			assert.Equal(t, app, got, "the application's object survives byte for byte")
		})
	}
}

// write stores data under key with cond: one Put, or a one-part upload
// completed under cond (the upload is aborted afterwards).
func write(ctx context.Context, t *testing.T, b storage.Backend, key string, data []byte, cond storage.Condition, multipart bool) error {
	t.Helper()
	if !multipart {
		_, err := b.Put(ctx, key, bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)), Condition: cond})
		return err
	}
	m := b.(storage.Multipart)
	u, err := m.CreateUpload(ctx, key, storage.ObjectInfo{})
	require.NoError(t, err)
	defer func() { require.NoError(t, m.AbortUpload(context.WithoutCancel(ctx), u)) }()
	part, err := m.UploadPart(ctx, u, 1, bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	u.Condition = cond
	_, err = m.CompleteUpload(ctx, u, []storage.Part{part})
	return err
}
