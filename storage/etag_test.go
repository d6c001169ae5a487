package storage

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// emptyMD5 is the ETag of the empty object on S3 and OSS (OSS upper-cases it).
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

func TestETagEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`"` + emptyMD5 + `"`, strings.ToUpper(emptyMD5), true},
		{" \"" + emptyMD5 + "\" ", emptyMD5, true},
		{"abc-2", `"ABC-2"`, true},
		{"abc", "abd", false},
		{"", "", false},
		{`""`, "", false},
	} {
		assert.Equal(t, tc.want, ETagEqual(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
	}
}

func TestETagShapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		etag  string
		md5   bool
		parts int
	}{
		{"empty object", emptyMD5, true, 0},
		{"OSS upper case", strings.ToUpper(emptyMD5), true, 0},
		{"quoted", `"` + emptyMD5 + `"`, true, 0},
		{"quoted upper-case multipart", `"` + strings.ToUpper(emptyMD5) + `-3"`, false, 3},
		{"multipart", emptyMD5 + "-10000", false, 10000},
		{"no ETag", "", false, 0},
		{"too short", emptyMD5[1:], false, 0},
		{"not hex", strings.Repeat("g", 32), false, 0},
		{"multipart of zero parts", emptyMD5 + "-0", false, 0},
		{"leading zero", emptyMD5 + "-02", false, 0},
		{"sign", emptyMD5 + "-+2", false, 0},
		{"no count", emptyMD5 + "-", false, 0},
		{"not an MD5 before the dash", "abc-2", false, 0},
		{"two dashes", emptyMD5 + "-2-2", false, 0},
		{"weak", "W/" + emptyMD5, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.md5, IsMD5ETag(tc.etag))
			assert.Equal(t, tc.parts, MultipartETagParts(tc.etag))
		})
	}
}

func TestMultipartETag(t *testing.T) {
	md5sum := func(s string) []byte { h := md5.Sum([]byte(s)); return h[:] }
	join := func(parts ...[]byte) string {
		h := md5.New()
		for _, p := range parts {
			h.Write(p)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	a, b := md5sum("part one"), md5sum("part two")
	for _, tc := range []struct {
		name  string
		parts [][]byte
		want  string
	}{
		{"two parts", [][]byte{a, b}, join(a, b) + "-2"},
		{"order matters", [][]byte{b, a}, join(b, a) + "-2"},
		{"one part is not the part's MD5", [][]byte{a}, join(a) + "-1"},
		{"one empty part", [][]byte{md5sum("")}, join(md5sum("")) + "-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MultipartETag(tc.parts)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, len(tc.parts), MultipartETagParts(got), "its own shape")
		})
	}
}
