package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

func TestCopySingleLocal(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(300<<10, 1)
	putObj(t, src, "dir/a b+c.bin", data)
	obj := object(t, src, "dir/a b+c.bin", "out/a b+c.bin")
	var progress atomic.Int64
	c := newCopier(t, Options{Src: retry.New(src, fastRetry), Dst: retry.New(dst, fastRetry),
		Progress: func(d int64) { progress.Add(d) }})
	res, err := c.Copy(t.Context(), "job", obj)
	requireVerified(t, res, err, data)
	assert.Equal(t, task.MethodSize, res.Method, "a local destination reports neither ETag nor CRC64")
	assert.Equal(t, 1, res.Attempts)
	assert.Equal(t, int64(len(data)), res.BytesRead)
	assert.Equal(t, int64(len(data)), res.BytesSent)
	assert.Equal(t, int64(len(data)), progress.Load())
	assert.Equal(t, "dir/a b+c.bin", res.Key)
	assert.Equal(t, "out/a b+c.bin", res.Dest)
	sameBytes(t, data, getObj(t, dst, "out/a b+c.bin"))
	st, err := dst.Stat(t.Context(), "out/a b+c.bin")
	require.NoError(t, err)
	assert.True(t, st.ModTime.Equal(obj.ModTime), "the source mtime is carried to a local destination")
}

func TestCopyRereadLocal(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	for _, size := range []int{1000, 3*mib + 5} {
		data := randomBytes(size, uint64(size))
		key := fmt.Sprintf("k%d", size)
		putObj(t, src, key, data)
		c := newCopier(t, Options{Src: src, Dst: dst, Settings: task.CopySettings{Verify: task.VerifyReread, MultipartThreshold: mib, PartSize: mib}})
		res, err := c.Copy(t.Context(), "job", object(t, src, key, key))
		requireVerified(t, res, err, data)
		assert.Equal(t, task.MethodReread, res.Method)
	}
}

func TestCopyEmptyObjectLocal(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	putObj(t, src, "empty", nil)
	c := newCopier(t, Options{Src: src, Dst: dst, Settings: task.CopySettings{MultipartThreshold: 1, PartSize: mib}})
	res, err := c.Copy(t.Context(), "job", object(t, src, "empty", "empty"))
	requireVerified(t, res, err, nil)
	assert.Empty(t, getObj(t, dst, "empty"))
	assert.Equal(t, int64(0), res.BytesRead)
}

func TestCopyMultipartLocal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		parts int
	}{
		{"three and a half parts", 3*mib + mib/2, 4},
		{"exactly one part size", mib, 1},
		{"exactly two part sizes", 2 * mib, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newLocal(t), newLocal(t)
			data := randomBytes(tc.size, 7)
			putObj(t, src, "big", data)
			h := hook(dst)
			store := NewMemUploads()
			c := newCopier(t, Options{Src: src, Dst: h, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 3}})
			res, err := c.Copy(t.Context(), "job", object(t, src, "big", "copy/big"))
			requireVerified(t, res, err, data)
			assert.Equal(t, task.MethodCRC64, res.Method, "local CompleteUpload reports the combined CRC64")
			assert.Equal(t, tc.parts, h.calls)
			sameBytes(t, data, getObj(t, dst, "copy/big"))
			assert.Zero(t, uploadsLeft(t, dst))
			assert.Zero(t, store.Len(), "state dropped after completion")
		})
	}
}

func TestPartSize(t *testing.T) {
	assert.Equal(t, int64(5*mib), partSize(5*mib, 100*mib, 5*mib))
	assert.Equal(t, int64(100), partSize(100, 100, 1), "a configured size is kept as is")
	assert.Equal(t, int64(5*mib), partSize(mib, 10*mib, 5*mib), "at least the destination's minimum")
	// 100 GiB in 5 MiB parts would be 20480 parts: raised to fit 10000.
	ps := partSize(5*mib, 100<<30, 5*mib)
	assert.LessOrEqual(t, (int64(100<<30)+ps-1)/ps, int64(storage.MaxParts))
	assert.Zero(t, ps%mib)
}

func TestPermanentSourceMissing(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	hs := hook(retry.New(src, fastRetry))
	c := newCopier(t, Options{Src: hs, Dst: dst})
	res, err := c.Copy(t.Context(), "job", task.Object{Key: "gone", Dest: "gone", Size: 10})
	require.NoError(t, err, "a missing source fails the object, not the job")
	assert.Equal(t, task.StatusFailed, res.Status)
	assert.Equal(t, "permanent", res.Class)
	assert.Equal(t, 1, res.Attempts)
	assert.Equal(t, int64(1), hs.opens.Load(), "not retried")
	assert.Contains(t, res.Reason, "not found")
}

func TestRetriesExhausted(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	putObj(t, src, "k", []byte("data"))
	h := hook(dst)
	h.afterPut = func(storage.ObjectInfo, error) (storage.ObjectInfo, error) {
		return storage.ObjectInfo{}, fmt.Errorf("put: %w", storage.ErrUnavailable)
	}
	var sleeps []time.Duration
	c := newCopier(t, Options{Src: src, Dst: h, Backoff: retry.Policy{Initial: time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }}})
	res, err := c.Copy(t.Context(), "job", object(t, src, "k", "k"))
	require.NoError(t, err)
	assert.Equal(t, task.StatusFailed, res.Status)
	assert.Equal(t, "retryable", res.Class)
	assert.Equal(t, 3, res.Attempts)
	assert.Contains(t, res.Reason, "after 3 attempts")
	assert.Contains(t, res.Reason, "temporarily unavailable")
	assert.Len(t, sleeps, 2, "a backoff between attempts")
	assert.Equal(t, int64(3), h.puts.Load())
}

// OnThrottled counts every attempt refused with SlowDown (the heartbeat's
// slowdowns figure), and nothing else.
func TestOnThrottledCounts(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	putObj(t, src, "k", []byte("data"))
	h := hook(dst)
	h.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		switch h.puts.Load() {
		case 1, 2:
			return storage.ObjectInfo{}, fmt.Errorf("put: 503 SlowDown: %w", storage.ErrThrottled)
		case 3:
			return storage.ObjectInfo{}, fmt.Errorf("put: %w", storage.ErrUnavailable) // not a slowdown
		}
		return info, err
	}
	var slowdowns atomic.Int64
	c := newCopier(t, Options{Src: src, Dst: h, OnThrottled: func() { slowdowns.Add(1) }})
	res, err := c.Copy(t.Context(), "job", object(t, src, "k", "k"))
	require.NoError(t, err)
	assert.Equal(t, task.StatusVerified, res.Status, res.Reason)
	assert.Equal(t, 4, res.Attempts)
	assert.Equal(t, int64(2), slowdowns.Load())
}

func TestMismatchEveryTimeDeletesDamagedCopy(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := []byte("some bytes")
	putObj(t, src, "k", data)
	h := hook(dst)
	h.evidence = &storage.Evidence{ETagMD5: true} // a store whose ETags are MD5s...
	h.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		info.ETag = strings.Repeat("0", 32) // ...answering an MD5 that is not ours
		return info, err
	}
	res, err := newCopier(t, Options{Src: src, Dst: h}).Copy(t.Context(), "job", object(t, src, "k", "k"))
	require.NoError(t, err)
	assert.Equal(t, task.StatusFailed, res.Status)
	assert.Equal(t, "retryable", res.Class)
	assert.Contains(t, res.Reason, "md5 mismatch")
	_, err = dst.Stat(t.Context(), "k")
	assert.ErrorIs(t, err, storage.ErrNotFound, "a copy that never verified is not left for skip rules to trust")
}

func TestPermanentPartFailureAbortsUpload(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(3*mib, 15)
	putObj(t, src, "big", data)
	h := hook(dst)
	h.beforePart = func(ctx context.Context, call, n int) error {
		if n == 2 {
			return &storage.Error{Backend: "test", Op: "upload-part", Key: "big", Err: storage.ErrAccessDenied}
		}
		return nil
	}
	store := NewMemUploads()
	res, err := newCopier(t, Options{Src: src, Dst: h, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib}}).
		Copy(t.Context(), "job", object(t, src, "big", "big"))
	require.NoError(t, err)
	assert.Equal(t, task.StatusFailed, res.Status)
	assert.Equal(t, "permanent", res.Class)
	assert.Equal(t, 1, res.Attempts)
	assert.Zero(t, uploadsLeft(t, dst), "no orphan upload")
	assert.Zero(t, store.Len(), "no orphan state")
}

func TestPartMismatchResent(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(3*mib, 16)
	putObj(t, src, "big", data)
	h := hook(dst)
	var bad atomic.Bool
	h.afterPart = func(p storage.Part) storage.Part {
		if p.Number == 2 && bad.CompareAndSwap(false, true) {
			p.CRC64++ // the destination stored something else than we sent
		}
		return p
	}
	res, err := newCopier(t, Options{Src: src, Dst: h, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 1}}).
		Copy(t.Context(), "job", object(t, src, "big", "big"))
	requireVerified(t, res, err, data)
	assert.Equal(t, 2, res.Attempts)
	assert.Equal(t, 4, h.calls, "three parts, one of them twice")
	assert.Equal(t, int64(4*mib), res.BytesRead, "the retry resumed: only the bad part was read again")
	sameBytes(t, data, getObj(t, dst, "big"))
}

func TestFatalStopsAndKeepsUpload(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(3*mib, 17)
	putObj(t, src, "big", data)
	h := hook(dst)
	h.beforePart = func(ctx context.Context, call, n int) error {
		if call == 2 {
			return &storage.Error{Backend: "test", Op: "upload-part", Key: "big", Err: storage.ErrAuth}
		}
		return nil
	}
	store := NewMemUploads()
	res, err := newCopier(t, Options{Src: src, Dst: h, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 1}}).
		Copy(t.Context(), "job", object(t, src, "big", "big"))
	require.ErrorIs(t, err, storage.ErrAuth)
	assert.Equal(t, storage.Fatal, storage.Classify(err))
	assert.Equal(t, "fatal", res.Class)
	assert.Equal(t, 1, uploadsLeft(t, dst), "left for resume once the operator fixes it")
	assert.Equal(t, 1, store.Len())
}

func TestNewCopierChecks(t *testing.T) {
	_, err := NewCopier(Options{})
	assert.Error(t, err)
	_, err = NewCopier(Options{Src: newLocal(t), Dst: newLocal(t), Settings: task.CopySettings{Verify: "md5"}})
	assert.ErrorContains(t, err, `"md5"`)
	c, err := NewCopier(Options{Src: newLocal(t), Dst: newLocal(t)})
	require.NoError(t, err)
	res, err := c.Copy(t.Context(), "job", task.Object{Key: "k"})
	require.NoError(t, err)
	assert.Equal(t, task.StatusFailed, res.Status, "no destination key")
	assert.True(t, errors.Is(ErrFinished, task.ErrFinished))
}

// markerSource serves S3-style directory markers, which a local tree
// cannot hold, over a local backend.
type markerSource struct{ storage.Backend }

func (m markerSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, storage.ObjectInfo, error) {
	if strings.HasSuffix(key, "/") {
		return io.NopCloser(strings.NewReader("")), storage.ObjectInfo{Key: key}, nil
	}
	return m.Backend.Open(ctx, key, off, n)
}

func TestDirMarkerToLocalIsSkipped(t *testing.T) {
	src, dst := markerSource{newLocal(t)}, newLocal(t)
	c := newCopier(t, Options{Src: src, Dst: dst})
	res, err := c.Copy(t.Context(), "job", task.Object{Key: "folder/", Dest: "folder/", Size: 0})
	require.NoError(t, err)
	assert.Equal(t, task.StatusSkipped, res.Status)
	assert.Equal(t, ReasonDirMarker, res.Reason)
	// A key the SOURCE refuses is a failure, marker-shaped or not.
	c2 := newCopier(t, Options{Src: newLocal(t), Dst: dst})
	res, err = c2.Copy(t.Context(), "job", task.Object{Key: "folder/", Dest: "folder/", Size: 0})
	require.NoError(t, err)
	assert.Equal(t, task.StatusFailed, res.Status)
}
