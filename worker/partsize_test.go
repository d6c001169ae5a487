package worker

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

const (
	kib = 1 << 10
	tib = int64(1) << 40
	tb  = int64(1_000_000_000_000)
)

func TestPartSizeFitsTheStore(t *testing.T) {
	s3, oss, local := storage.S3PartLimits(), storage.OSSPartLimits(), storage.NoPartLimits()
	for _, tc := range []struct {
		name       string
		configured int64
		size       int64
		lim        storage.PartLimits
		want       int64 // 0: ErrTooLarge
	}{
		{"empty object", 8 * mib, 0, s3, 8 * mib},
		{"one byte over the threshold", 8 * mib, 100*mib + 1, s3, 8 * mib},
		{"unset: the default", 0, 100 * mib, s3, task.DefaultPartSize},
		{"small parts on OSS stay small", 256 * kib, 2 * mib, oss, 256 * kib},
		{"OSS minimum", 50 * kib, 2 * mib, oss, 100 * kib},
		{"S3 raises small parts to 5 MiB", 256 * kib, 2 * mib, s3, 5 * mib},
		{"not rounded when it fits", 5*mib + 1, 100 * mib, s3, 5*mib + 1},
		{"5 TB on S3: 477 MiB parts", 8 * mib, 5 * tb, s3, 477 * mib},
		{"5 TB on OSS: 477 MiB parts", 256 * kib, 5 * tb, oss, 477 * mib},
		{"5 TiB on S3, its largest", 8 * mib, 5 * tib, s3, 525 * mib},
		{"48 TiB on OSS", 8 * mib, 48 * tib, oss, 5034 * mib},
		{"48.8 TiB on OSS, its largest", 8 * mib, oss.MaxObject, oss, 5 << 30},
		{"configured above the largest part", 6 << 30, 10 << 30, s3, 5 << 30},
		{"20 TiB to a filesystem", 8 * mib, 20 * tib, local, 2098 * mib},
		{"above S3's largest object", 8 * mib, 5*tib + 1, s3, 0},
		{"above OSS's largest object", 8 * mib, oss.MaxObject + 1, oss, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PartSize(task.CopySettings{PartSize: tc.configured}, tc.size, tc.lim)
			if tc.want == 0 {
				require.ErrorIs(t, err, storage.ErrTooLarge)
				assert.Equal(t, storage.Permanent, storage.Classify(err))
				assert.Contains(t, err.Error(), "largest object")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, (tc.size+got-1)/got, int64(tc.lim.MaxParts), "fits the part count")
			assert.GreaterOrEqual(t, got, tc.lim.MinPart)
			assert.LessOrEqual(t, got, tc.lim.MaxPartOrInf())
		})
	}
}

// limited is a destination that states other limits than its backend's,
// to run the copier against a store's rules on a local filesystem.
type limited struct {
	*hooked
	lim storage.PartLimits
}

func (l limited) MinPartSize() int64             { return l.lim.MinPart }
func (l limited) PartLimits() storage.PartLimits { return l.lim }

// With OSS's limits, multipartUploadThreshold=1m and a 256 KiB part size,
// a 2 MiB object goes in eight real 256 KiB parts. (Real parts this small
// go to a local destination only: versitygw, behind the OSS proxy too,
// refuses parts under S3's 5 MiB.)
func TestSmallPartsOnOSSLimits(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(2*mib, 21)
	putObj(t, src, "two", data)
	h := hook(dst)
	c := newCopier(t, Options{Src: src, Dst: limited{h, storage.OSSPartLimits()},
		Settings: task.CopySettings{MultipartThreshold: mib, PartSize: 256 * kib}})
	res, err := c.Copy(t.Context(), "job", object(t, src, "two", "two"))
	requireVerified(t, res, err, data)
	assert.Equal(t, 8, h.calls, "eight parts")
	sameBytes(t, data, getObj(t, dst, "two"))
}

// A 5 TB object is not uploaded here: the copy stops at its first part's
// read, and the upload state records the part size chosen for S3
// (477 MiB, so 9,997 parts) for the resume to use.
func TestHugeObjectRecordsItsPartSize(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	putObj(t, src, "huge", []byte("stands for 5 TB"))
	hs := hook(src)
	hs.stat = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		info.Size = 5 * tb
		return info, err
	}
	obj := object(t, src, "huge", "huge")
	obj.Size = 5 * tb
	store := NewMemUploads()
	ctx, cancel := context.WithCancel(t.Context())
	hs.beforeOpen = func(ctx context.Context, _ string) error { // the first part's read
		cancel()
		return ctx.Err()
	}
	res, err := newCopier(t, Options{Src: hs, Dst: limited{hook(dst), storage.S3PartLimits()}, Uploads: store,
		Settings: task.CopySettings{MultipartThreshold: 8 * mib, PartSize: 8 * mib, PartsInFlight: 1}}).Copy(ctx, "job", obj)
	require.ErrorIs(t, err, context.Canceled, "%+v", res)
	st, ok, err := store.LoadUpload(t.Context(), "job", "huge")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(477*mib), st.PartSize)
	assert.Equal(t, 5*tb, st.Size)
	assert.Equal(t, int64(9997), (st.Size+st.PartSize-1)/st.PartSize)
}

// An object over the destination's largest fails for good, naming itself
// and the limit, before any upload is created.
func TestObjectLargerThanTheStoreFails(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	putObj(t, src, "vast", []byte("stands for 6 TiB"))
	hs := hook(src)
	hs.stat = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		info.Size = 6 * tib
		return info, err
	}
	obj := object(t, src, "vast", "vast")
	obj.Size = 6 * tib
	hd := hook(dst)
	res, err := newCopier(t, Options{Src: hs, Dst: limited{hd, storage.S3PartLimits()},
		Settings: task.CopySettings{MultipartThreshold: 8 * mib, PartSize: 8 * mib}}).Copy(t.Context(), "job", obj)
	require.NoError(t, err, "one object's failure, not the job's")
	assert.Equal(t, task.StatusFailed, res.Status)
	assert.Equal(t, "permanent", res.Class)
	assert.Equal(t, 1, res.Attempts, "not retried")
	assert.Contains(t, res.Reason, `"vast"`)
	assert.Contains(t, res.Reason, "5.0 TiB")
	assert.Zero(t, uploadsLeft(t, dst))
}

// A resumed upload keeps the part size it was started with, even when the
// configuration now asks for another: its parts are sent already.
func TestResumeKeepsTheRecordedPartSize(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(5*mib+1234, 22)
	putObj(t, src, "big", data)
	obj := object(t, src, "big", "big")
	store := NewMemUploads()
	ctx, cancel := context.WithCancel(t.Context())
	_, err := newCopier(t, Options{Src: src, Dst: cancelAfterParts(dst, 2, cancel), Uploads: store,
		Settings: task.CopySettings{MultipartThreshold: mib, PartSize: mib, PartsInFlight: 1}}).Copy(ctx, "job", obj)
	require.ErrorIs(t, err, context.Canceled)

	h := hook(dst)
	res, err := newCopier(t, Options{Src: src, Dst: h, Uploads: store,
		Settings: task.CopySettings{MultipartThreshold: mib, PartSize: 2 * mib, PartsInFlight: 1}}).Copy(t.Context(), "job", obj)
	requireVerified(t, res, err, data)
	assert.Equal(t, int64(len(data)-2*mib), res.BytesRead, "the two parts sent are kept")
	assert.Equal(t, 4, h.calls, "parts 3..6 of 1 MiB, not 2 MiB parts")
	sameBytes(t, data, getObj(t, dst, "big"))
}
