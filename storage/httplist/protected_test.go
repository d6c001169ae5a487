package httplist_test

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/httplist"
)

func TestHotlinkProtection(t *testing.T) {
	o := newOrigin(t)
	o.put(t, "protected/", "img/a.jpg", []byte("picture"))

	t.Run("no Referer: 403, access denied", func(t *testing.T) {
		b := o.backend(t, httplist.Options{})
		_, err := b.Stat(t.Context(), "img/a.jpg")
		require.ErrorIs(t, err, storage.ErrAccessDenied)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
		assert.Contains(t, err.Error(), "403")
		assert.Contains(t, err.Error(), o.n.URL+"/protected/img/a.jpg", "the error names the URL")
		_, _, err = b.Open(t.Context(), "img/a.jpg", 0, -1)
		assert.ErrorIs(t, err, storage.ErrAccessDenied)
	})
	t.Run("with srcReferer", func(t *testing.T) {
		h, err := httplist.ParseHeaders("Referer: https://www.example.com/gallery; User-Agent: ferry-test")
		require.NoError(t, err)
		b := o.backend(t, httplist.Options{Header: h})
		st, err := b.Stat(t.Context(), "img/a.jpg")
		require.NoError(t, err)
		assert.Equal(t, int64(7), st.Size)
		rc, _, err := b.Open(t.Context(), "img/a.jpg", 2, 3)
		require.NoError(t, err)
		got, _ := io.ReadAll(rc)
		rc.Close()
		assert.Equal(t, "ctu", string(got))
	})
}

// nginx's own signed links: the list holds pre-signed URLs; their query
// is sent but never shown.
func TestSignedLinksNeverShowTheirSignature(t *testing.T) {
	o := newOrigin(t)
	o.n.Write(t, "signed/ok.bin", []byte("signed bytes"))
	o.n.Write(t, "signed/expired.bin", []byte("old"))
	link := func(uri string, exp int64) string {
		sum := md5.Sum([]byte(strconv.FormatInt(exp, 10) + uri + " ferry-link-secret"))
		sig := base64.RawURLEncoding.EncodeToString(sum[:])
		return fmt.Sprintf("?md5=%s&expires=%d", sig, exp)
	}
	future, past := time.Now().Add(time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	okQuery, expQuery := link("/signed/ok.bin", future), link("/signed/expired.bin", past)
	o.line(t, o.n.URL+"/signed/ ok.bin"+okQuery)
	o.line(t, o.n.URL+"/signed/ expired.bin"+expQuery)
	o.line(t, o.n.URL+"/signed/ unsigned.bin")
	o.line(t, o.n.URL+"/moved/ away.bin?token=SECRETTOKEN")
	b := o.backend(t, httplist.Options{})

	rc, info, err := b.Open(t.Context(), "ok.bin", 0, -1)
	require.NoError(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, "signed bytes", string(got))
	assert.Equal(t, int64(12), info.Size)

	for key, want := range map[string]error{"expired.bin": nil, "unsigned.bin": storage.ErrAccessDenied, "away.bin": nil} {
		_, err := b.Stat(t.Context(), key)
		require.Error(t, err, key)
		if want != nil {
			assert.ErrorIs(t, err, want, key)
		}
		_, _, oerr := b.Open(t.Context(), key, 0, -1)
		require.Error(t, oerr, key)
		for _, e := range []error{err, oerr} {
			msg := e.Error()
			assert.NotContains(t, msg, "md5=", key)
			assert.NotContains(t, msg, okQuery[5:20], key)
			assert.NotContains(t, msg, expQuery[5:20], key)
			assert.NotContains(t, msg, "SECRET", key)
		}
	}
	_, err = b.Stat(t.Context(), "away.bin")
	assert.Contains(t, err.Error(), "302")
	assert.Contains(t, err.Error(), "Location host elsewhere.example", "a redirect names its target host")
	assert.Equal(t, storage.Permanent, storage.Classify(err))
	assert.NotContains(t, b.String(), "http://", "String names the list, not URLs")
}

func TestHeadRefusedAndServerErrors(t *testing.T) {
	o := newOrigin(t)
	o.put(t, "nohead/", "x.bin", []byte("0123456789"))
	o.line(t, o.n.URL+"/broken/ bad.bin")
	o.line(t, o.n.URL+"/files/ gone.bin")
	o.line(t, "http://127.0.0.1:1/ unreachable.bin")
	b := o.backend(t, httplist.Options{})

	st, err := b.Stat(t.Context(), "x.bin")
	require.NoError(t, err, "HEAD refused: a one-byte GET answers")
	assert.Equal(t, int64(10), st.Size)
	assert.False(t, st.ModTime.IsZero())

	_, err = b.Stat(t.Context(), "bad.bin")
	assert.ErrorIs(t, err, storage.ErrUnavailable)
	assert.Equal(t, storage.Retryable, storage.Classify(err))
	_, err = b.Stat(t.Context(), "gone.bin")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Contains(t, err.Error(), o.n.URL+"/files/gone.bin")
	_, err = b.Stat(t.Context(), "unreachable.bin")
	require.Error(t, err)
	assert.Equal(t, storage.Retryable, storage.Classify(err), "connection refused: %v", err)

	var listed []storage.ObjectInfo
	require.NoError(t, b.List(t.Context(), "", "", func(oi storage.ObjectInfo) error {
		listed = append(listed, oi)
		return nil
	}), "objects that fail stay listed: their copy reports the error")
	require.Len(t, listed, 4)
	assert.Equal(t, "x.bin", listed[3].Key)
	assert.Equal(t, int64(10), listed[3].Size)
}

func TestEvidenceFromHeaders(t *testing.T) {
	body := []byte("evidence")
	sum := md5.Sum(body)
	srv := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"opaque-123"`)
		w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		w.Header().Set("X-Oss-Hash-Crc64ecma", "1234567890123")
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		http.ServeContent(w, r, "", time.Time{}, bytesReader(body))
	})
	o := &origin{list: t.TempDir() + "/l"}
	o.line(t, srv+"/ e.bin")
	b := o.backend(t, httplist.Options{})
	st, err := b.Stat(t.Context(), "e.bin")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%x", sum), st.ETag, "Content-MD5 becomes the ETag the copier checks")
	assert.True(t, st.HasCRC64)
	assert.Equal(t, uint64(1234567890123), st.CRC64)
	assert.Equal(t, time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC), st.ModTime)
}

// OSS-signed requests: the signature the backend adds is never shown,
// whatever fails.
func TestSignedRequestsNeverShowTheirSignature(t *testing.T) {
	denied := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Oss-Ec", "0002-00000069")
		http.Error(w, "expired", http.StatusForbidden)
	})
	moved := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://other.example/x?"+r.URL.RawQuery, http.StatusFound)
	})
	o := &origin{list: t.TempDir() + "/l"}
	o.line(t, denied+"/ denied.bin")
	o.line(t, moved+"/ moved.bin")
	o.line(t, "http://127.0.0.1:1/ unreachable.bin")
	b := o.backend(t, httplist.Options{Signer: httplist.OSSSigner{AccessKey: "LTAIKEYID", SecretKey: "topsecret", SecurityToken: "STSTOKEN"}})
	for _, key := range []string{"denied.bin", "moved.bin", "unreachable.bin"} {
		_, err := b.Stat(t.Context(), key)
		require.Error(t, err, key)
		_, _, oerr := b.Open(t.Context(), key, 0, -1)
		require.Error(t, oerr, key)
		for _, e := range []error{err, oerr} {
			for _, secret := range []string{"Signature=", "OSSAccessKeyId=", "LTAIKEYID", "STSTOKEN", "Expires="} {
				assert.NotContains(t, e.Error(), secret, key)
			}
		}
	}
	_, err := b.Stat(t.Context(), "denied.bin")
	assert.ErrorIs(t, err, storage.ErrAccessDenied)
	assert.Contains(t, err.Error(), "(0002-00000069)", "OSS's error code tells an expired signature from a refusal")
}

// Origins that ignore Range are read from the start with the skipped
// bytes discarded; origins that do not say the size fail the object.
func TestOriginWithoutRangesOrLength(t *testing.T) {
	body := []byte("0123456789abcdef")
	plain := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body) // Range ignored: always 200 and everything
		}
	})
	chunked := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body[:4])
		w.(http.Flusher).Flush() // no Content-Length from here on
		_, _ = w.Write(body[4:])
	})
	o := &origin{list: t.TempDir() + "/l"}
	o.line(t, plain+"/ plain.bin")
	o.line(t, chunked+"/ chunked.bin")
	b := o.backend(t, httplist.Options{})

	rc, info, err := b.Open(t.Context(), "plain.bin", 10, 4)
	require.NoError(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, "abcd", string(got))
	assert.Equal(t, int64(16), info.Size)
	_, _, err = b.Open(t.Context(), "plain.bin", 16, -1)
	assert.ErrorIs(t, err, storage.ErrInvalidRange)

	_, err = b.Stat(t.Context(), "chunked.bin")
	assert.ErrorContains(t, err, "no Content-Length")
	_, _, err = b.Open(t.Context(), "chunked.bin", 0, -1)
	assert.ErrorContains(t, err, "no Content-Length")
}
