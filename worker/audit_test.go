package worker

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/s3"
	"github.com/ferry-migrate/ferry/task"
)

// TestAudit compares without copying, against real servers: two
// OSS-flavour buckets behind the proxy (CRC64 on both sides), a local
// source against them, and a local source against versitygw holding a
// multipart copy, where only reading the source can tell.
func TestAudit(t *testing.T) {
	e := newOSSEnv(t)
	ctx := t.Context()
	osrc, odst := e.bucket(t, "asrc"), e.bucket(t, "adst")
	lsrc := newLocal(t)
	s3dst := s3Bucket(t, e.srv, "s3dst")
	// The same bucket as a store whose checksums ferry does not read: the
	// multipart ETag is then all the destination tells.
	etagOnly, err := s3.New(ctx, s3.Config{Endpoint: e.srv.Endpoint, Region: e.srv.Region, Bucket: "s3dst",
		AccessKey: e.srv.AccessKey, SecretKey: e.srv.SecretKey, CABundle: e.srv.Cert.CertFile, PathStyle: true,
		Checksums: s3.ChecksumWhenRequired})
	require.NoError(t, err)

	same := randomBytes(3000, 41)
	flip := append([]byte(nil), same...)
	flip[1234] ^= 1
	for k, v := range map[string][]byte{"same": same, "other": same, "short": same} {
		putObj(t, osrc, k, v)
	}
	putObj(t, odst, "same", same)
	putObj(t, odst, "other", flip)
	putObj(t, odst, "short", same[:2999])
	putObj(t, lsrc, "local", same)
	putObj(t, odst, "local", same)

	// A multipart copy at versitygw (three parts of 5 MiB), whose ETag the
	// local source can only be hashed into.
	big := randomBytes(11*mib, 42)
	putObj(t, lsrc, "big", big)
	copyOpts := Options{Src: lsrc, Dst: s3dst, Settings: task.CopySettings{MultipartThreshold: 5 * mib, PartSize: 5 * mib}}
	res, err := newCopier(t, copyOpts).Copy(ctx, "job", object(t, lsrc, "big", "big"))
	requireVerified(t, res, err, big)
	require.Equal(t, 3, storage.MultipartETagParts(res.DestETag), "a multipart copy: %s", res.DestETag)
	bigFlip := append([]byte(nil), big...)
	bigFlip[7*mib] ^= 1
	putObj(t, lsrc, "big-changed", bigFlip)
	_, err = newCopier(t, copyOpts).Copy(ctx, "job", object(t, lsrc, "big", "big-changed"))
	require.NoError(t, err)

	manifest := func(o task.Object, c uint64) task.Object {
		o.ManifestCRC64, o.HasManifestCRC64 = c, true
		return o
	}
	for _, tc := range []struct {
		name     string
		src, dst storage.Backend
		obj      task.Object
		status   task.Status
		method   task.Method
		reason   string // substring, for failures
		read     int64  // source bytes read
	}{
		{name: "stored CRC64s match: nothing read", src: osrc, dst: odst, obj: object(t, osrc, "same", "same"),
			status: task.StatusVerified, method: task.MethodCRC64},
		{name: "same size, other bytes", src: osrc, dst: odst, obj: object(t, osrc, "other", "other"),
			status: task.StatusFailed, reason: "CRC64 differs: source " + crc.FormatOSS(crc.Checksum(same))},
		{name: "missing", src: osrc, dst: odst, obj: object(t, osrc, "same", "nowhere"),
			status: task.StatusFailed, reason: ReasonMissing},
		{name: "size differs", src: osrc, dst: odst, obj: object(t, osrc, "short", "short"),
			status: task.StatusFailed, reason: "size differs: source 3000, destination 2999"},
		{name: "local source, manifest CRC64 matches: nothing read", src: lsrc, dst: odst,
			obj:    manifest(object(t, lsrc, "local", "local"), crc.Checksum(same)),
			status: task.StatusVerified, method: task.MethodManifestCRC64},
		{name: "local source, manifest CRC64 differs", src: lsrc, dst: odst,
			obj:    manifest(object(t, lsrc, "local", "other"), crc.Checksum(same)),
			status: task.StatusFailed, reason: "CRC64 differs: manifest"},
		{name: "local source, no manifest: the source is read for the CRC64", src: lsrc, dst: odst,
			obj:    object(t, lsrc, "local", "other"),
			status: task.StatusFailed, reason: "CRC64 differs: source", read: 3000},
		{name: "local source, multipart ETag: the source is read", src: lsrc, dst: etagOnly, obj: object(t, lsrc, "big", "big"),
			status: task.StatusVerified, method: task.MethodMultipartETag, read: 11 * mib},
		{name: "local source changed, multipart ETag differs", src: lsrc, dst: etagOnly, obj: object(t, lsrc, "big-changed", "big"),
			status: task.StatusFailed, reason: "multipart ETag differs: source", read: 11 * mib},
		{name: "local source, store's CRC64NVME: the source is read", src: lsrc, dst: s3dst, obj: object(t, lsrc, "big", "big"),
			status: task.StatusVerified, method: task.MethodChecksum, read: 11 * mib},
		{name: "local source changed, store's checksum differs", src: lsrc, dst: s3dst, obj: object(t, lsrc, "big-changed", "big"),
			status: task.StatusFailed, reason: "checksum differs: source crc64nvme:", read: 11 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := copyOpts
			o.Src, o.Dst = tc.src, tc.dst
			res, err := newCopier(t, o).Audit(ctx, "job", tc.obj)
			require.NoError(t, err)
			assert.Equal(t, tc.status.String(), res.Status.String(), res.Reason)
			assert.Equal(t, tc.method, res.Method)
			assert.Equal(t, tc.read, res.BytesRead, "source bytes read")
			assert.Zero(t, res.BytesSent, "an audit sends nothing")
			assert.Equal(t, tc.obj.Key, res.Key)
			assert.Equal(t, tc.obj.Dest, res.Dest)
			if tc.status == task.StatusFailed {
				assert.Equal(t, ClassAudit, res.Class)
				assert.Contains(t, res.Reason, tc.reason)
			} else {
				assert.Empty(t, res.Reason)
				assert.True(t, res.HasCRC64, "the manifest keeps the CRC64 for the next audit")
			}
		})
	}
}

// TestPartHasher: the part MD5s of a read make the multipart ETag that
// S3 and OSS give an upload in parts of that size, the short last part
// included.
func TestPartHasher(t *testing.T) {
	data := randomBytes(10_000, 43)
	for _, tc := range []struct {
		partSize int64
		writes   []int // sizes of the writes the bytes arrive in
		parts    int
	}{
		{1000, []int{10_000}, 10},
		{3000, []int{1, 2999, 3000, 4000}, 4},
		{4096, []int{5000, 5000}, 3},
		{10_000, []int{7, 9993}, 1},
	} {
		p := &partHasher{size: tc.partSize, h: md5.New()}
		off := 0
		for _, n := range tc.writes {
			w, err := p.Write(data[off : off+n])
			require.NoError(t, err)
			require.Equal(t, n, w)
			off += n
		}
		var want [][]byte
		for o := int64(0); o < int64(len(data)); o += tc.partSize {
			s := md5.Sum(data[o:min(o+tc.partSize, int64(len(data)))])
			want = append(want, s[:])
		}
		got := p.sums()
		assert.Len(t, got, tc.parts, "part size %d", tc.partSize)
		assert.Equal(t, storage.MultipartETag(want), storage.MultipartETag(got), "part size %d", tc.partSize)
	}
}

// TestAuditModes: what decides under each verify mode, with stored
// digests stated by the backends' Stat.
func TestAuditModes(t *testing.T) {
	data := randomBytes(2000, 51)
	sum := md5.Sum(data)
	good, bad := hex.EncodeToString(sum[:]), strings.Repeat("ab", 16)
	type stated struct {
		etag string
		crc  *uint64
	}
	wrongCRC := crc.Checksum(data) ^ 1
	for _, tc := range []struct {
		name     string
		mode     task.VerifyMode
		src, dst stated
		other    bool // the destination holds other bytes of the same size
		status   task.Status
		method   task.Method
		reason   string
		read     int64
	}{
		{name: "MD5 ETags match", mode: task.VerifyAuto, src: stated{etag: good}, dst: stated{etag: strings.ToUpper(good)},
			status: task.StatusVerified, method: task.MethodMD5},
		{name: "MD5 ETags differ", mode: task.VerifyAuto, src: stated{etag: good}, dst: stated{etag: bad},
			status: task.StatusFailed, reason: "MD5 ETag differs: source " + good},
		{name: "size mode trusts no ETag", mode: task.VerifySize, src: stated{etag: good}, dst: stated{etag: bad},
			status: task.StatusVerified, method: task.MethodSize},
		{name: "size mode still reads for a CRC64", mode: task.VerifySize, dst: stated{etag: bad, crc: &wrongCRC},
			status: task.StatusFailed, reason: "CRC64 differs: source", read: 2000},
		{name: "off reads nothing", mode: task.VerifyOff, dst: stated{etag: bad, crc: &wrongCRC},
			status: task.StatusVerified, method: task.MethodSize},
		{name: "no source digest, MD5 ETag at the destination: read", mode: task.VerifyAuto, dst: stated{etag: good},
			status: task.StatusVerified, method: task.MethodMD5, read: 2000},
		{name: "nothing to compare: sizes decide", mode: task.VerifyAuto,
			status: task.StatusVerified, method: task.MethodSize},
		{name: "reread: nothing stored decides, both sides are read", mode: task.VerifyReread,
			status: task.StatusVerified, method: task.MethodReread, read: 4000},
		{name: "reread: other bytes read back", mode: task.VerifyReread, other: true,
			status: task.StatusFailed, reason: "content read back differs: source 2000 bytes, crc64 " + crc.FormatOSS(crc.Checksum(data)), read: 4000},
		{name: "reread: a stored digest decides, nothing is read", mode: task.VerifyReread, src: stated{etag: good}, dst: stated{etag: good},
			status: task.StatusVerified, method: task.MethodMD5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newLocal(t), newLocal(t)
			putObj(t, src, "k", data)
			if tc.other {
				putObj(t, dst, "k", randomBytes(len(data), 52))
			} else {
				putObj(t, dst, "k", data)
			}
			state := func(b storage.Backend, s stated) storage.Backend {
				h := hook(b)
				h.stat = func(i storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
					i.ETag = s.etag
					if s.crc != nil {
						i.CRC64, i.HasCRC64 = *s.crc, true
					}
					return i, err
				}
				return h
			}
			c := newCopier(t, Options{Src: state(src, tc.src), Dst: state(dst, tc.dst), Settings: task.CopySettings{Verify: tc.mode}})
			res, err := c.Audit(t.Context(), "job", object(t, src, "k", "k"))
			require.NoError(t, err)
			assert.Equal(t, tc.status.String(), res.Status.String(), res.Reason)
			assert.Equal(t, tc.method, res.Method)
			assert.Equal(t, tc.read, res.BytesRead)
			if tc.reason != "" {
				assert.Contains(t, res.Reason, tc.reason)
			}
		})
	}
}
