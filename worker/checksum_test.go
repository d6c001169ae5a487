package worker

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

// TestCopyS3ChecksumPassthrough copies S3 to S3 on versitygw, which keeps a
// CRC64NVME of every object as AWS does: the destination validates the
// source's own checksum, so the copier computes no MD5, and damage on the
// way is refused by the destination and copied again.
func TestCopyS3ChecksumPassthrough(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	ctx := t.Context()
	src := s3Bucket(t, srv, "csrc")
	dst := s3Bucket(t, srv, "cdst")
	opts := Options{Src: src, Dst: dst, Settings: task.CopySettings{MultipartThreshold: 5 * mib, PartSize: 5 * mib}}
	small, big := randomBytes(900<<10, 41), randomBytes(12*mib+7, 42)
	for key, data := range map[string][]byte{"small": small, "big": big} {
		_, err := srv.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("csrc"), Key: aws.String(key),
			Body: bytes.NewReader(data)})
		require.NoError(t, err)
	}
	nvme := func(b []byte) string {
		return storage.FormatChecksum(storage.ChecksumCRC64NVME, binary.BigEndian.AppendUint64(nil, crc.ChecksumNVME(b)))
	}

	t.Run("single put: destination validates, no MD5 computed", func(t *testing.T) {
		c := newCopier(t, opts)
		_, info, err := src.Open(ctx, "small", 0, -1)
		require.NoError(t, err)
		assert.Equal(t, hashPlan{crc64: true, declare: nvme(small)}, c.planSingle(info))
		res, err := c.Copy(ctx, "job", object(t, src, "small", "small"))
		requireVerified(t, res, err, small)
		assert.Equal(t, task.MethodChecksum, res.Method)
		sameBytes(t, small, getObj(t, dst, "small"))
	})
	t.Run("multipart: destination validates the assembled object", func(t *testing.T) {
		res, err := newCopier(t, opts).Copy(ctx, "job", object(t, src, "big", "big"))
		requireVerified(t, res, err, big)
		assert.Equal(t, task.MethodChecksum, res.Method)
		sameBytes(t, big, getObj(t, dst, "big"))
	})
	t.Run("byte flipped on the way: refused, copied again", func(t *testing.T) {
		o := opts
		o.Src = flipFirstRead(src, 1000)
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, "small", "flip/small"))
		requireVerified(t, res, err, small)
		assert.Equal(t, 2, res.Attempts)
		sameBytes(t, small, getObj(t, dst, "flip/small"))
	})
	t.Run("part flipped on the way: completion refused, every part sent again", func(t *testing.T) {
		h := hook(src)
		h.body = func(open, off int64, rc io.ReadCloser) io.ReadCloser {
			if open <= 3 && off == 5*mib { // part 2 of the first attempt
				return flipped(rc, 77)
			}
			return rc
		}
		o := opts
		o.Src = h
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, "big", "flip/big"))
		requireVerified(t, res, err, big)
		assert.Equal(t, task.MethodChecksum, res.Method)
		assert.Equal(t, 2, res.Attempts)
		sameBytes(t, big, getObj(t, dst, "flip/big"))
		assert.Zero(t, uploadsLeft(t, dst), "the refused upload was aborted")
	})
	t.Run("destination ignoring the checksum: copy read back", func(t *testing.T) {
		h := hook(dst)
		h.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
			info.Checksum = ""
			return info, err
		}
		o := opts
		o.Dst = h
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, "small", "ignored/small"))
		requireVerified(t, res, err, small)
		assert.Equal(t, task.MethodReread, res.Method)
	})
	t.Run("to a destination that cannot validate: the copier checks the source's checksum", func(t *testing.T) {
		local := newLocal(t)
		o := opts
		o.Src, o.Dst = flipFirstRead(src, 5), local
		c := newCopier(t, o)
		_, info, err := src.Open(ctx, "small", 0, -1)
		require.NoError(t, err)
		assert.Equal(t, hashPlan{crc64: true, check: storage.ChecksumCRC64NVME}, c.planSingle(info))
		res, err := c.Copy(ctx, "job", object(t, src, "small", "small"))
		requireVerified(t, res, err, small)
		assert.Equal(t, 2, res.Attempts, "the flipped read was caught by the source's CRC64NVME")
		sameBytes(t, small, getObj(t, local, "small"))
	})
	t.Run("verify=off hashes nothing", func(t *testing.T) {
		o := opts
		o.Settings.Verify = task.VerifyOff
		for _, key := range []string{"small", "big"} {
			res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, key, "off/"+key))
			require.NoError(t, err)
			require.Equal(t, task.StatusVerified, res.Status, res.Reason)
			assert.Equal(t, task.MethodSize, res.Method, key)
			assert.False(t, res.HasCRC64, "%s: no CRC64 was computed, so the manifest gets none", key)
		}
	})
}

// TestPlanSingle: the hashes a single-part copy computes, by what the two
// ends can prove.
func TestPlanSingle(t *testing.T) {
	const sum = "crc64nvme:WZvzgmIcGKc="
	md5ETag := "0123456789abcdef0123456789abcdef"
	s3 := storage.Evidence{ETagMD5: true, Checksums: true}
	s3Off := storage.Evidence{ETagMD5: true}
	oss := storage.Evidence{CRC64: true, ETagMD5: true}
	for _, c := range []struct {
		name   string
		mode   task.VerifyMode
		dst    storage.Evidence
		src    storage.ObjectInfo
		expect hashPlan
	}{
		{"S3 to S3: declare, no MD5", task.VerifyAuto, s3, storage.ObjectInfo{ETag: md5ETag, Checksum: sum}, hashPlan{crc64: true, declare: sum}},
		{"S3 without checksum to S3: MD5 is all there is", task.VerifyAuto, s3, storage.ObjectInfo{ETag: md5ETag}, hashPlan{crc64: true, md5: true}},
		{"local to S3: MD5 for the ETag", task.VerifyAuto, s3, storage.ObjectInfo{}, hashPlan{crc64: true, md5: true}},
		{"S3 to S3 with checksums off: check the source's sum, MD5 for the ETag", task.VerifyAuto, s3Off, storage.ObjectInfo{ETag: md5ETag, Checksum: sum}, hashPlan{crc64: true, md5: true, check: storage.ChecksumCRC64NVME}},
		{"S3 to OSS: CRC64 and the source's sum", task.VerifyAuto, oss, storage.ObjectInfo{ETag: md5ETag, Checksum: sum}, hashPlan{crc64: true, check: storage.ChecksumCRC64NVME}},
		{"S3 without checksum to OSS: MD5 for the source's ETag", task.VerifyAuto, oss, storage.ObjectInfo{ETag: md5ETag}, hashPlan{crc64: true, md5: true}},
		{"OSS to OSS: CRC64 only", task.VerifyAuto, oss, storage.ObjectInfo{ETag: md5ETag, HasCRC64: true}, hashPlan{crc64: true}},
		{"local to local: CRC64 only", task.VerifyAuto, storage.Evidence{}, storage.ObjectInfo{}, hashPlan{crc64: true}},
		{"size mode: no MD5 even where it is all there is", task.VerifySize, s3, storage.ObjectInfo{ETag: md5ETag}, hashPlan{crc64: true}},
		{"reread plans like auto", task.VerifyReread, s3, storage.ObjectInfo{ETag: md5ETag, Checksum: sum}, hashPlan{crc64: true, declare: sum}},
		{"off: nothing", task.VerifyOff, s3, storage.ObjectInfo{ETag: md5ETag, Checksum: sum}, hashPlan{}},
		{"malformed checksum is no checksum", task.VerifyAuto, s3, storage.ObjectInfo{ETag: md5ETag, Checksum: "crc64nvme:x"}, hashPlan{crc64: true, md5: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := c.dst
			dst := hook(newLocal(t))
			dst.evidence = &ev
			cp := newCopier(t, Options{Src: newLocal(t), Dst: dst, Settings: task.CopySettings{Verify: c.mode}})
			assert.Equal(t, c.expect, cp.planSingle(c.src))
		})
	}
}

// TestPlanPart: part MD5s only for an MD5-ETag destination that validates
// nothing for the upload.
func TestPlanPart(t *testing.T) {
	for _, c := range []struct {
		name   string
		dst    storage.Evidence
		mode   uploadMode
		expect hashPlan
	}{
		{"S3, checksum declared", storage.Evidence{ETagMD5: true, Checksums: true}, uploadMode{task.VerifyAuto, "crc64nvme:WZvzgmIcGKc="}, hashPlan{crc64: true}},
		{"S3, nothing declared", storage.Evidence{ETagMD5: true, Checksums: true}, uploadMode{task.VerifyAuto, ""}, hashPlan{crc64: true, md5: true}},
		{"OSS", storage.Evidence{CRC64: true, ETagMD5: true}, uploadMode{task.VerifyAuto, ""}, hashPlan{crc64: true}},
		{"S3, size mode", storage.Evidence{ETagMD5: true}, uploadMode{task.VerifySize, ""}, hashPlan{crc64: true}},
		{"off", storage.Evidence{ETagMD5: true}, uploadMode{task.VerifyOff, ""}, hashPlan{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := c.dst
			dst := hook(newLocal(t))
			dst.evidence = &ev
			cp := newCopier(t, Options{Src: newLocal(t), Dst: dst})
			assert.Equal(t, c.expect, cp.planPart(c.mode))
		})
	}
}

// flipFirstRead returns b with one byte, at offset at, inverted in what
// its first Open returns.
func flipFirstRead(b storage.Backend, at int64) *hooked {
	h := hook(b)
	h.body = func(open, _ int64, rc io.ReadCloser) io.ReadCloser {
		if open == 1 {
			return flipped(rc, at)
		}
		return rc
	}
	return h
}
