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
	mpETag := storage.MultipartETag(multi.PartMD5s)
	otherMP := storage.MultipartETag([][]byte{md5sum(p2), md5sum(p1)})

	tests := []struct {
		name     string
		mode     task.VerifyMode
		sent     Sums
		dest     storage.ObjectInfo
		want     task.Method
		mismatch string // Check of the expected MismatchError, "" for none
	}{
		{"crc64 wins over etag", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, CRC64: single.CRC64, HasCRC64: true, ETag: "garbage"}, task.MethodCRC64, ""},
		{"crc64 differs", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, CRC64: single.CRC64 + 1, HasCRC64: true, ETag: sumHex}, "", "crc64"},
		{"crc64 checked in size mode too", task.VerifySize, single, storage.ObjectInfo{Size: single.Size, CRC64: 1, HasCRC64: true}, "", "crc64"},
		{"md5 etag, lower case", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: sumHex}, task.MethodMD5, ""},
		{"md5 etag, upper case and quoted (OSS)", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: `"` + strings.ToUpper(sumHex) + `"`}, task.MethodMD5, ""},
		{"md5-shaped etag differs", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: strings.Repeat("a", 32)}, "", "md5"},
		{"md5-shaped etag ignored in size mode", task.VerifySize, single, storage.ObjectInfo{Size: single.Size, ETag: strings.Repeat("a", 32)}, task.MethodSize, ""},
		{"reread mode checks like auto", task.VerifyReread, single, storage.ObjectInfo{Size: single.Size, ETag: sumHex}, task.MethodMD5, ""},
		{"single part with multipart-shaped etag: size", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: mpETag}, task.MethodSize, ""},
		{"opaque etag: size", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size, ETag: "W/xyz-123"}, task.MethodSize, ""},
		{"no etag: size", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size}, task.MethodSize, ""},
		{"size unknown (0) is not a mismatch", task.VerifyAuto, single, storage.ObjectInfo{ETag: sumHex}, task.MethodMD5, ""},
		{"size differs", task.VerifyAuto, single, storage.ObjectInfo{Size: single.Size + 1, ETag: sumHex}, "", "size"},
		{"empty object", task.VerifyAuto, Sums{MD5: md5sum(nil), CRC64: 0, HasCRC64: true}, storage.ObjectInfo{ETag: hex.EncodeToString(md5sum(nil))}, task.MethodMD5, ""},
		{"multipart etag", task.VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: strings.ToUpper(mpETag)}, task.MethodMultipartETag, ""},
		{"multipart etag differs", task.VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: otherMP}, "", "multipart-etag"},
		{"multipart etag of another part count: size", task.VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: strings.TrimSuffix(otherMP, "-2") + "-3"}, task.MethodSize, ""},
		{"multipart with plain md5 etag: size", task.VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, ETag: sumHex}, task.MethodSize, ""},
		{"multipart crc64", task.VerifyAuto, multi, storage.ObjectInfo{Size: multi.Size, CRC64: multi.CRC64, HasCRC64: true, ETag: otherMP}, task.MethodCRC64, ""},
		{"multipart etag ignored in size mode", task.VerifySize, multi, storage.ObjectInfo{Size: multi.Size, ETag: otherMP}, task.MethodSize, ""},
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
		mode     task.VerifyMode
		src      storage.ObjectInfo
		read     Sums
		mismatch string
	}{
		{"nothing reported", task.VerifyAuto, storage.ObjectInfo{Size: read.Size}, read, ""},
		{"crc64 equal", task.VerifyAuto, storage.ObjectInfo{Size: read.Size, CRC64: read.CRC64, HasCRC64: true}, read, ""},
		{"crc64 differs", task.VerifyAuto, storage.ObjectInfo{Size: read.Size, CRC64: read.CRC64 ^ 1, HasCRC64: true}, read, "crc64"},
		{"crc64 differs, size mode", task.VerifySize, storage.ObjectInfo{Size: read.Size, CRC64: read.CRC64 ^ 1, HasCRC64: true}, read, "crc64"},
		{"md5 etag equal", task.VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.ToUpper(sumHex)}, read, ""},
		{"md5 etag differs", task.VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32)}, read, "md5"},
		{"md5 etag differs, size mode trusts no etag", task.VerifySize, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32)}, read, ""},
		{"multipart source etag is not an md5", task.VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32) + "-4"}, read, ""},
		{"read in parts: no whole md5", task.VerifyAuto, storage.ObjectInfo{Size: read.Size, ETag: strings.Repeat("0", 32)}, Sums{Size: read.Size, CRC64: read.CRC64, HasCRC64: true}, ""},
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
	assert.NoError(t, VerifyPart(task.VerifyAuto, storage.Part{Number: 3, ETag: strings.ToUpper(sumHex), CRC64: read.CRC64, HasCRC64: true}, read))
	assert.NoError(t, VerifyPart(task.VerifyAuto, storage.Part{Number: 3, ETag: "opaque"}, read))
	err := VerifyPart(task.VerifyAuto, storage.Part{Number: 3, ETag: sumHex, CRC64: 7, HasCRC64: true}, read)
	var mm *MismatchError
	require.True(t, errors.As(err, &mm))
	assert.Equal(t, "part 3", mm.Side)
	assert.Equal(t, "crc64", mm.Check)
	err = VerifyPart(task.VerifyAuto, storage.Part{Number: 2, ETag: strings.Repeat("b", 32)}, read)
	require.True(t, errors.As(err, &mm))
	assert.Equal(t, "md5", mm.Check)
	assert.NoError(t, VerifyPart(task.VerifySize, storage.Part{Number: 2, ETag: strings.Repeat("b", 32)}, read))
}
