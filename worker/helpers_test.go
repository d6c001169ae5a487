package worker

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

const mib = 1 << 20

// fastRetry is the retry policy the tests wrap backends in: production's
// shape, test-sized waits.
var fastRetry = retry.Policy{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newLocal(t *testing.T) *local.Backend {
	t.Helper()
	b, err := local.New(t.TempDir(), local.Options{})
	require.NoError(t, err)
	return b
}

func putObj(t *testing.T, b storage.Backend, key string, data []byte) storage.ObjectInfo {
	t.Helper()
	info, err := b.Put(context.Background(), key, bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
	require.NoError(t, err, "put %q", key)
	return info
}

func getObj(t *testing.T, b storage.Backend, key string) []byte {
	t.Helper()
	rc, _, err := b.Open(context.Background(), key, 0, -1)
	require.NoError(t, err, "open %q", key)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	return data
}

// object describes key of b as the scanner would list it.
func object(t *testing.T, b storage.Backend, key, dest string) task.Object {
	t.Helper()
	info, err := b.Stat(context.Background(), key)
	require.NoError(t, err)
	return task.Object{Key: key, Dest: dest, Size: info.Size, ModTime: info.ModTime, ETag: info.ETag}
}

func newCopier(t *testing.T, o Options) *Copier {
	t.Helper()
	if o.Backoff.Initial == 0 {
		o.Backoff = retry.Policy{Initial: time.Millisecond, Max: 10 * time.Millisecond}
	}
	c, err := NewCopier(o)
	require.NoError(t, err)
	return c
}

func uploadsLeft(t *testing.T, b storage.Backend) int {
	t.Helper()
	n := 0
	require.NoError(t, b.(storage.Multipart).ListUploads(context.Background(), "", func(storage.Upload) error { n++; return nil }))
	return n
}

// sameBytes compares without printing megabytes on failure.
func sameBytes(t *testing.T, want, got []byte) {
	t.Helper()
	if !bytes.Equal(want, got) {
		t.Errorf("content differs: want %d bytes (crc64 %x), got %d bytes (crc64 %x)",
			len(want), crc.Checksum(want), len(got), crc.Checksum(got))
	}
}

func requireVerified(t *testing.T, res task.Result, err error, data []byte) {
	t.Helper()
	require.NoError(t, err)
	require.Equal(t, task.StatusVerified, res.Status, "reason: %s", res.Reason)
	require.True(t, res.HasCRC64)
	require.Equal(t, crc.Checksum(data), res.CRC64)
	require.Equal(t, int64(len(data)), res.Size)
}

// hooked wraps a backend to observe or disturb it. It always implements
// storage.Multipart (inner must, for multipart calls to work).
type hooked struct {
	storage.Backend
	mp storage.Multipart

	mu    sync.Mutex
	calls int // UploadPart calls so far

	// beforePart runs before UploadPart call number call (1-based); an
	// error is returned instead of uploading.
	beforePart func(ctx context.Context, call, n int) error
	// afterPart may change the acknowledged part.
	afterPart func(storage.Part) storage.Part
	// afterPut may change what Put and CompleteUpload report.
	afterPut func(storage.ObjectInfo, error) (storage.ObjectInfo, error)
	// beforeOpen runs before Open; an error is returned instead.
	beforeOpen func(ctx context.Context, key string) error
	// stat may change what Stat reports.
	stat func(storage.ObjectInfo, error) (storage.ObjectInfo, error)
	// body may replace what Open returns (open counts from 1).
	body func(open int64, off int64, rc io.ReadCloser) io.ReadCloser
	// evidence, if set, is claimed instead of the inner backend's.
	evidence *storage.Evidence
	puts     atomic.Int64
	opens    atomic.Int64
}

func hook(b storage.Backend) *hooked {
	mp, _ := b.(storage.Multipart)
	return &hooked{Backend: b, mp: mp}
}

func (h *hooked) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	h.puts.Add(1)
	out, err := h.Backend.Put(ctx, key, body, info)
	if h.afterPut != nil {
		return h.afterPut(out, err)
	}
	return out, err
}

func (h *hooked) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, storage.ObjectInfo, error) {
	call := h.opens.Add(1)
	if h.beforeOpen != nil {
		if err := h.beforeOpen(ctx, key); err != nil {
			return nil, storage.ObjectInfo{}, err
		}
	}
	rc, info, err := h.Backend.Open(ctx, key, off, n)
	if err == nil && h.body != nil {
		rc = h.body(call, off, rc)
	}
	return rc, info, err
}

// Evidence passes the inner backend's on (the copier plans its hashes by
// it) unless the test overrides it.
func (h *hooked) Evidence() storage.Evidence {
	if h.evidence != nil {
		return *h.evidence
	}
	return storage.EvidenceOf(h.Backend)
}

// flipped returns rc with the byte at offset at (of the read) inverted.
func flipped(rc io.ReadCloser, at int64) io.ReadCloser {
	return &flipReader{ReadCloser: rc, at: at}
}

type flipReader struct {
	io.ReadCloser
	at, pos int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if i := f.at - f.pos; i >= 0 && i < int64(n) {
		p[i] ^= 0xff
	}
	f.pos += int64(n)
	return n, err
}

func (h *hooked) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	info, err := h.Backend.Stat(ctx, key)
	if h.stat != nil {
		return h.stat(info, err)
	}
	return info, err
}

func (h *hooked) MinPartSize() int64             { return h.mp.MinPartSize() }
func (h *hooked) PartLimits() storage.PartLimits { return storage.LimitsOf(h.mp) }

func (h *hooked) CreateUpload(ctx context.Context, key string, info storage.ObjectInfo) (storage.Upload, error) {
	return h.mp.CreateUpload(ctx, key, info)
}

func (h *hooked) UploadPart(ctx context.Context, u storage.Upload, n int, body io.Reader, size int64) (storage.Part, error) {
	h.mu.Lock()
	h.calls++
	call := h.calls
	h.mu.Unlock()
	if h.beforePart != nil {
		if err := h.beforePart(ctx, call, n); err != nil {
			return storage.Part{}, err
		}
	}
	p, err := h.mp.UploadPart(ctx, u, n, body, size)
	if err == nil && h.afterPart != nil {
		p = h.afterPart(p)
	}
	return p, err
}

func (h *hooked) ListParts(ctx context.Context, u storage.Upload) ([]storage.Part, error) {
	return h.mp.ListParts(ctx, u)
}

func (h *hooked) CompleteUpload(ctx context.Context, u storage.Upload, parts []storage.Part) (storage.ObjectInfo, error) {
	out, err := h.mp.CompleteUpload(ctx, u, parts)
	if h.afterPut != nil {
		return h.afterPut(out, err)
	}
	return out, err
}

func (h *hooked) AbortUpload(ctx context.Context, u storage.Upload) error {
	return h.mp.AbortUpload(ctx, u)
}

func (h *hooked) ListUploads(ctx context.Context, prefix string, fn func(storage.Upload) error) error {
	return h.mp.ListUploads(ctx, prefix, fn)
}
