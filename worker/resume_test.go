package worker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// cancelAfterParts returns a destination that cancels the copy as it is
// about to send part number k+1 (PartsInFlight 1 keeps the count exact).
func cancelAfterParts(dst storage.Backend, k int, cancel context.CancelFunc) *hooked {
	h := hook(dst)
	h.beforePart = func(ctx context.Context, call, n int) error {
		if call > k {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	return h
}

func TestResumeLocal(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(5*mib+1234, 11)
	putObj(t, src, "big", data)
	obj := object(t, src, "big", "big")
	store := NewMemUploads() // stands for the master's durable store
	opts := Options{Src: src, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 1}}

	ctx, cancel := context.WithCancel(t.Context())
	o := opts
	o.Dst = cancelAfterParts(dst, 2, cancel)
	res, err := newCopier(t, o).Copy(ctx, "job", obj)
	require.ErrorIs(t, err, context.Canceled, "a canceled copy is an error, not a result")
	assert.Equal(t, int64(2*mib), res.BytesRead)
	st, ok, _ := store.LoadUpload(t.Context(), "job", "big")
	require.True(t, ok, "the state is left for resume")
	require.Len(t, st.Parts, 2)
	assert.Equal(t, 1, uploadsLeft(t, dst), "the upload is left for resume")

	// A new process: new Copier, new backend values, same store.
	o = opts
	h := hook(dst)
	o.Dst = h
	res, err = newCopier(t, o).Copy(t.Context(), "job", obj)
	requireVerified(t, res, err, data)
	assert.Equal(t, int64(len(data)-2*mib), res.BytesRead, "only the missing parts are read")
	assert.Equal(t, 4, h.calls, "parts 3..6 sent")
	sameBytes(t, data, getObj(t, dst, "big"))
	assert.Zero(t, uploadsLeft(t, dst))
	assert.Zero(t, store.Len())
}

func TestResumeSourceChangedLocal(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(4*mib, 12)
	putObj(t, src, "big", data)
	obj := object(t, src, "big", "big")
	store := NewMemUploads()
	opts := Options{Src: src, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 1}}

	ctx, cancel := context.WithCancel(t.Context())
	o := opts
	o.Dst = cancelAfterParts(dst, 2, cancel)
	_, err := newCopier(t, o).Copy(ctx, "job", obj)
	require.ErrorIs(t, err, context.Canceled)
	old, ok, _ := store.LoadUpload(t.Context(), "job", "big")
	require.True(t, ok)

	// Same size, new content and mtime: resuming would splice versions.
	data2 := randomBytes(4*mib, 13)
	putObj(t, src, "big", data2)
	obj2 := object(t, src, "big", "big")
	require.False(t, obj2.ModTime.Equal(obj.ModTime))
	o = opts
	o.Dst = dst
	res, err := newCopier(t, o).Copy(t.Context(), "job", obj2)
	requireVerified(t, res, err, data2)
	assert.Equal(t, int64(len(data2)), res.BytesRead, "restarted from scratch")
	sameBytes(t, data2, getObj(t, dst, "big"))
	assert.Zero(t, uploadsLeft(t, dst), "the old upload was aborted")
	_, err = dst.ListParts(t.Context(), storage.Upload{Key: old.Dest, ID: old.UploadID})
	assert.ErrorIs(t, err, storage.ErrNoSuchUpload)
}

func TestResumeUploadGoneLocal(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(3*mib, 14)
	putObj(t, src, "big", data)
	obj := object(t, src, "big", "big")
	store := NewMemUploads()
	ctx, cancel := context.WithCancel(t.Context())
	_, err := newCopier(t, Options{Src: src, Dst: cancelAfterParts(dst, 1, cancel), Uploads: store,
		Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 1}}).Copy(ctx, "job", obj)
	require.ErrorIs(t, err, context.Canceled)
	st, _, _ := store.LoadUpload(t.Context(), "job", "big")
	require.NoError(t, dst.AbortUpload(t.Context(), storage.Upload{Key: st.Dest, ID: st.UploadID})) // expired meanwhile

	res, err := newCopier(t, Options{Src: src, Dst: dst, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib}}).Copy(t.Context(), "job", obj)
	requireVerified(t, res, err, data)
	assert.Equal(t, int64(len(data)), res.BytesRead)
	assert.Equal(t, 1, res.Attempts)
}

// TestSourceChangedDuringMultipart: a part read finds a different object
// than the one the upload started from; splicing the versions must not
// happen, so the attempt fails and the next starts over.
func TestSourceChangedDuringMultipart(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(3*mib, 18)
	putObj(t, src, "big", data)
	hs := hook(src)
	var stats atomic.Int64
	hs.stat = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		if stats.Add(1) == 1 {
			info.ModTime = info.ModTime.Add(-time.Hour) // the version the copy started from
		}
		return info, err
	}
	store := NewMemUploads()
	res, err := newCopier(t, Options{Src: hs, Dst: dst, Uploads: store, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib}}).
		Copy(t.Context(), "job", object(t, src, "big", "big"))
	requireVerified(t, res, err, data)
	assert.Equal(t, 2, res.Attempts)
	sameBytes(t, data, getObj(t, dst, "big"))
	assert.Zero(t, uploadsLeft(t, dst), "the first attempt's upload was aborted")
	assert.Zero(t, store.Len())
}

// TestCompletedMeanwhile: CompleteUpload succeeded but its answer was lost,
// and the retry layer's second try met NoSuchUpload.
func TestCompletedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		crc      bool // the destination's HEAD proves the object is ours
		attempts int
	}{
		{"proved by crc64: accepted", true, 1},
		{"unprovable: copied again", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newLocal(t), newLocal(t)
			data := randomBytes(2*mib+10, 19)
			putObj(t, src, "big", data)
			h := hook(dst)
			if tc.crc {
				h = withCRC(t, dst)
			}
			var completes atomic.Int64
			h.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
				if err == nil && info.Size > mib && completes.Add(1) == 1 {
					return storage.ObjectInfo{}, &storage.Error{Backend: "test", Op: "complete-upload", Key: "big", Err: storage.ErrNoSuchUpload}
				}
				return info, err
			}
			res, err := newCopier(t, Options{Src: src, Dst: h, Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib}}).
				Copy(t.Context(), "job", object(t, src, "big", "big"))
			requireVerified(t, res, err, data)
			assert.Equal(t, tc.attempts, res.Attempts)
			sameBytes(t, data, getObj(t, dst, "big"))
			assert.Zero(t, uploadsLeft(t, dst))
		})
	}
}
