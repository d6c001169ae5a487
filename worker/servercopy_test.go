package worker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/s3"
	"github.com/ferry-migrate/ferry/task"
)

// snapshotObject is obj as a snapshot pass grants it: unchanged since
// the base snapshot, whose copy of it is base (with that copy's ETag and
// the CRC64 the manifest keeps).
func snapshotObject(obj task.Object, base string, baseInfo storage.ObjectInfo, data []byte) task.Object {
	obj.CopyFrom, obj.CopyFromETag = base, baseInfo.ETag
	obj.ManifestCRC64, obj.HasManifestCRC64 = crc.Checksum(data), true
	return obj
}

// TestServerCopy: an object granted with CopyFrom is made inside the
// destination, reading nothing from the source, and proven by the
// strongest evidence the destination gives; one the destination cannot
// make right is streamed from the source instead.
func TestServerCopy(t *testing.T) {
	data := randomBytes(40<<10, 7)
	other := randomBytes(40<<10, 8) // same size, other bytes
	for _, tc := range []struct {
		name      string
		dst       func(t *testing.T) storage.Backend
		verify    task.VerifyMode
		base      []byte // the base copy's bytes; nil: no base copy
		server    bool   // made by a server-side copy
		method    task.Method
		bytesRead int64
	}{
		{name: "local, verify=auto: size only", dst: localDst, base: data, server: true, method: task.MethodSize},
		{name: "local, verify=reread: read back from the destination", dst: localDst, verify: task.VerifyReread,
			base: data, server: true, method: task.MethodReread},
		{name: "local, base copy gone: streamed", dst: localDst, server: false, bytesRead: int64(len(data))},
		{name: "local, base copy damaged, reread disproves it: streamed", dst: localDst, verify: task.VerifyReread,
			base: other, server: false, bytesRead: int64(len(data))},
		{name: "S3: the copy keeps the base copy's ETag", dst: s3Dst, base: data, server: true, method: task.MethodCopyETag},
		{name: "OSS: the copy's CRC64 is the manifest's", dst: ossDst, base: data, server: true, method: task.MethodManifestCRC64},
		{name: "OSS, base copy damaged, its CRC64 disproves it: streamed", dst: ossDst, base: other, server: false,
			bytesRead: int64(len(data))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			src, dst := newLocal(t), tc.dst(t)
			putObj(t, src, "k", data)
			var baseInfo storage.ObjectInfo
			if tc.base != nil {
				baseInfo = putObj(t, dst, "snap-1/k", tc.base)
			}
			obj := snapshotObject(object(t, src, "k", "snap-2/k"), "snap-1/k", baseInfo, data)
			res, err := newCopier(t, Options{Src: src, Dst: dst, Settings: task.CopySettings{Verify: tc.verify}}).Copy(ctx, "job", obj)
			requireVerified(t, res, err, data)
			sameBytes(t, data, getObj(t, dst, "snap-2/k"))
			assert.Equal(t, tc.bytesRead, res.BytesRead, "bytes read from the source")
			if tc.server {
				assert.Equal(t, task.OutcomeServerCopy, res.Outcome)
				assert.Equal(t, tc.method, res.Method)
			} else {
				assert.Empty(t, res.Outcome, "streamed, not a server-side copy")
			}
		})
	}
}

func localDst(t *testing.T) storage.Backend { return retry.New(newLocal(t), fastRetry) }

func s3Dst(t *testing.T) storage.Backend {
	srv := testserver.Versitygw(t, testserver.Options{})
	srv.CreateBucket(t, "dst")
	b, err := s3.New(t.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: "dst", PathStyle: true,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CABundle: srv.Cert.CertFile})
	require.NoError(t, err)
	return retry.New(b, fastRetry)
}

func ossDst(t *testing.T) storage.Backend { return newOSSEnv(t).bucket(t, "dst") }

// TestListedCRC64ChecksTheBytesRead: a source whose listing gives a
// CRC64 (a snapshot read through its manifest) has every byte read
// checked against it, though its reads report none: bytes that differ
// fail the object instead of being copied as good.
func TestListedCRC64ChecksTheBytesRead(t *testing.T) {
	data := randomBytes(10<<10, 9)
	src, dst := newLocal(t), newLocal(t)
	putObj(t, src, "k", data)
	obj := object(t, src, "k", "k")
	obj.CRC64, obj.HasCRC64 = crc.Checksum(data), true
	res, err := newCopier(t, Options{Src: src, Dst: dst}).Copy(t.Context(), "job", obj)
	requireVerified(t, res, err, data)

	obj.CRC64 ^= 1 // the manifest says otherwise
	obj.Dest = "k2"
	res, err = newCopier(t, Options{Src: src, Dst: dst, Settings: task.CopySettings{Retries: 1}}).Copy(t.Context(), "job", obj)
	require.NoError(t, err)
	require.Equal(t, task.StatusFailed, res.Status)
	assert.Contains(t, res.Reason, "source crc64 mismatch")
}

// TestIdenticalCarriesCRC64WhenNeeded: an object already at the
// destination, proven identical by a stored checksum (no bytes read),
// has no CRC64 to report; a snapshot pass needs one for its manifest, so
// the copier reads the destination copy for it, and the source not at all.
func TestIdenticalCarriesCRC64WhenNeeded(t *testing.T) {
	data := randomBytes(3000, 11)
	withChecksum := func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		if err == nil {
			info.Checksum = "crc32:AAAAAA=="
		}
		return info, err
	}
	for _, need := range []bool{false, true} {
		t.Run(fmt.Sprintf("NeedCRC64=%t", need), func(t *testing.T) {
			src, dst := hook(newLocal(t)), hook(newLocal(t))
			src.stat, dst.stat = withChecksum, withChecksum
			putObj(t, src, "k", data)
			putObj(t, dst, "k", data)
			obj := object(t, src, "k", "k")
			obj.NeedCRC64 = need
			res, err := newCopier(t, Options{Src: src, Dst: dst}).Copy(t.Context(), "job", obj)
			require.NoError(t, err)
			require.Equal(t, task.StatusVerified, res.Status, res.Reason)
			assert.Equal(t, task.OutcomeIdentical, res.Outcome)
			assert.Equal(t, task.MethodChecksum, res.Method)
			assert.Zero(t, res.BytesRead, "the source is not read")
			assert.Zero(t, src.opens.Load())
			assert.Equal(t, need, res.HasCRC64)
			if need {
				assert.Equal(t, crc.Checksum(data), res.CRC64)
			}
		})
	}
}
