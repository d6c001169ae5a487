package worker

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

func md5sum(b []byte) []byte { s := md5.Sum(b); return s[:] }

func TestVerifyDest(t *testing.T) {
	body := []byte("hello, ferry")
	sumHex := hex.EncodeToString(md5sum(body))
	single := Sums{Size: int64(len(body)), CRC64: crc.Checksum(body), HasCRC64: true, MD5: md5sum(body)}
	p1, p2 := []byte("part one"), []byte("part two!")
	multi := Sums{Size: int64(len(p1) + len(p2)),
		CRC64: crc.Combine(crc.Checksum(p1), crc.Checksum(p2), int64(len(p2))), HasCRC64: true,
		PartMD5s: [][]byte{md5sum(p1), md5sum(p2)}}
	mpETag := MultipartETag(multi.PartMD5s)
	otherMP := MultipartETag([][]byte{md5sum(p2), md5sum(p1)})

	tests := []struct {
		name     string
		mode     string
		sent     Sums
		dest     storage.ObjectInfo
		want     task.Method
		mismatch string // Check of the expected MismatchError, "" for none
	}{
		{"crc64 wins over etag", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, CRC64: single.CRC64, HasCRC64: true, ETag: "garbage"}, task.MethodCRC64, ""},
		{"crc64 differs", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, CRC64: single.CRC64 + 1, HasCRC64: true, ETag: sumHex}, "", "crc64"},
		{"crc64 checked in size mode too", VerifySize, single, storage.ObjectInfo{Size: single.Size, CRC64: 1, HasCRC64: true}, "", "crc64"},
		{"md5 etag, lower case", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: sumHex}, task.MethodMD5, ""},
		{"md5 etag, upper case and quoted (OSS)", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: `"` + strings.ToUpper(sumHex) + `"`}, task.MethodMD5, ""},
		{"md5-shaped etag differs", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: strings.Repeat("a", 32)}, "", "md5"},
		{"md5-shaped etag ignored in size mode", VerifySize, single, storage.ObjectInfo{Size: single.Size, ETag: strings.Repeat("a", 32)}, task.MethodSize, ""},
		{"reread mode checks like auto", VerifyReread, single, storage.ObjectInfo{Size: single.Size, ETag: sumHex}, task.MethodMD5, ""},
		{"single part with multipart-shaped etag: size", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: mpETag}, task.MethodSize, ""},
		{"opaque etag: size", VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: "W/xyz-123"}, task.MethodSize, ""},
		{"no etag: size", VerifyAuto, single, storage.ObjectInfo{Size: single.Size}, task.MethodSize, ""},
		{"size unknown (0) is not a mismatch", VerifyAuto, single, storage.ObjectInfo{ETag: sumHex}, task.MethodMD5, ""},
		{"size differs", VerifyAuto, single, storage.ObjectInfo{Size: single.Size + 1, ETag: sumHex}, "", "size"},
		{"empty object", VerifyAuto, Sums{MD5: md5sum(nil), CRC64: 0, HasCRC64: true}, storage.ObjectInfo{ETag: hex.EncodeToString(md5sum(nil))}, task.MethodMD5, ""},
		{"multipart etag", VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: strings.ToUpper(mpETag)}, task.MethodMultipartETag, ""},
		{"multipart etag differs", VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: otherMP}, "", "multipart-etag"},
		{"multipart etag of another part count: size", VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: strings.TrimSuffix(otherMP, "-2") + "-3"}, task.MethodSize, ""},
		{"multipart with plain md5 etag: size", VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: sumHex}, task.MethodSize, ""},
		{"multipart crc64", VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, CRC64: multi.CRC64, HasCRC64: true, ETag: otherMP}, task.MethodCRC64, ""},
		{"multipart etag ignored in size mode", VerifySize, multi, storage.ObjectInfo{Size: multi.Size, ETag: otherMP}, task.MethodSize, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := VerifyDest(tc.mode, tc.sent, tc.dest)
			if tc.mismatch == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, m)
				return
			}
			var mm *MismatchError
			require.ErrorAs(t, err, &mm)
			assert.Equal(t, tc.mismatch, mm.Check)
			assert.ErrorIs(t, err, storage.ErrCorrupt)
			assert.Equal(t, storage.Retryable, storage.Classify(err), "a mismatch is retried")
		})
	}
}

func TestVerifySource(t *testing.T) {
	body := []byte("source bytes")
	read := Sums{Size: int64(len(body)), CRC64: crc.Checksum(body), HasCRC64: true, MD5: md5sum(body)}
	sumHex := hex.EncodeToString(read.MD5)
	tests := []struct {
		name     string
		mode     string
		src      storage.ObjectInfo
		read     Sums
		mismatch string
	}{
		{"nothing reported", VerifyAuto, storage.ObjectInfo{Size: read.Size}, read, ""},
		{"crc64 equal", VerifyAuto, storage.ObjectInfo{Size: read.Size, CRC64: read.CRC64, HasCRC64: true}, read, ""},
		{"crc64 differs", VerifyAuto, storage.ObjectInfo{Size: read.Size, CRC64: read.CRC64 ^ 1, HasCRC64: true}, read, "crc64"},
		{"crc64 differs, size mode", VerifySize, storage.ObjectInfo{Size: read.Size, CRC64: read.CRC64 ^ 1, HasCRC64: true}, read, "crc64"},
		{"md5 etag equal", VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.ToUpper(sumHex)}, read, ""},
		{"md5 etag differs", VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32)}, read, "md5"},
		{"md5 etag differs, size mode trusts no etag", VerifySize, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32)}, read, ""},
		{"multipart source etag is not an md5", VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32) + "-4"}, read, ""},
		{"read in parts: no whole md5", VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32)}, Sums{Size: read.Size, CRC64: read.CRC64, HasCRC64: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySource(tc.mode, tc.src, tc.read)
			if tc.mismatch == "" {
				require.NoError(t, err)
				return
			}
			var mm *MismatchError
			require.ErrorAs(t, err, &mm)
			assert.Equal(t, "source", mm.Side)
			assert.Equal(t, tc.mismatch, mm.Check)
		})
	}
}

func TestVerifyPart(t *testing.T) {
	body := []byte("a part")
	read := Sums{Size: int64(len(body)), CRC64: crc.Checksum(body), HasCRC64: true, MD5: md5sum(body)}
	sumHex := hex.EncodeToString(read.MD5)
	assert.NoError(t, VerifyPart(VerifyAuto, storage.Part{Number: 3, ETag: strings.ToUpper(sumHex), CRC64: read.CRC64, HasCRC64: true}, read))
	assert.NoError(t, VerifyPart(VerifyAuto, storage.Part{Number: 3, ETag: "opaque"}, read))
	err := VerifyPart(VerifyAuto, storage.Part{Number: 3, ETag: sumHex, CRC64: 7, HasCRC64: true}, read)
	var mm *MismatchError
	require.True(t, errors.As(err, &mm))
	assert.Equal(t, "part 3", mm.Side)
	assert.Equal(t, "crc64", mm.Check)
	err = VerifyPart(VerifyAuto, storage.Part{Number: 2, ETag: strings.Repeat("b", 32)}, read)
	require.True(t, errors.As(err, &mm))
	assert.Equal(t, "md5", mm.Check)
	assert.NoError(t, VerifyPart(VerifySize, storage.Part{Number: 2, ETag: strings.Repeat("b", 32)}, read))
}

func TestMultipartETagShape(t *testing.T) {
	// S3's documented construction: md5 of the concatenated binary digests.
	a, b := md5sum([]byte("a")), md5sum([]byte("b"))
	want := md5.Sum(append(append([]byte{}, a...), b...))
	assert.Equal(t, hex.EncodeToString(want[:])+"-2", MultipartETag([][]byte{a, b}))
	for s, ok := range map[string]bool{
		strings.Repeat("a", 32) + "-1": true, strings.Repeat("A", 32) + "-10000": true,
		strings.Repeat("a", 32): false, strings.Repeat("a", 32) + "-": false, strings.Repeat("a", 32) + "-01": false,
		strings.Repeat("g", 32) + "-2": false, "abc-2": false,
	} {
		_, _, got := splitMultipartETag(s)
		assert.Equal(t, ok, got, s)
	}
}
