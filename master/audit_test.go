package master

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
)

func TestAuditFindsEveryDifference(t *testing.T) {
	mk := func() storage.Backend {
		b, err := local.New(t.TempDir(), local.Options{})
		require.NoError(t, err)
		return b
	}
	src, dst := mk(), mk()
	put := func(b storage.Backend, k, v string) {
		_, err := b.Put(t.Context(), k, bytes.NewReader([]byte(v)), storage.ObjectInfo{Size: int64(len(v))})
		require.NoError(t, err)
	}
	put(src, "same", "abc")
	put(dst, "x/same", "abc")
	put(src, "missing", "m")
	put(src, "shorter", "12345")
	put(dst, "x/shorter", "1234")
	put(dst, "x/extra", "e")
	put(src, "skipme.tmp", "z")
	f, err := NewFilter(t0.AddDate(-10, 0, 0), nil, []string{"*.tmp"})
	require.NoError(t, err)
	got := map[string]task.Result{}
	var extra []string
	sum, err := Audit(t.Context(), AuditConfig{Src: src, Dst: dst, DestPrefix: "x/", Filter: f, Deep: true},
		func(r task.Result) error { got[r.Key] = r; return nil },
		func(k string) error { extra = append(extra, k); return nil })
	require.NoError(t, err)
	assert.Equal(t, AuditSummary{Compared: 3, Matched: 1, Missing: 1, Differ: 1, Extra: 1,
		Methods: map[task.Method]int64{task.MethodSize: 1}}, sum)
	assert.Equal(t, task.StatusVerified, got["same"].Status)
	assert.Equal(t, "x/same", got["same"].Dest)
	assert.Equal(t, "missing at destination", got["missing"].Reason)
	assert.Equal(t, "audit", got["missing"].Class)
	assert.Contains(t, got["shorter"].Reason, "size differs: source 5, destination 4")
	assert.Equal(t, []string{"x/extra"}, extra)
	assert.NotContains(t, got, "skipme.tmp", "filtered objects are not audited")
}

func TestDigest(t *testing.T) {
	data := randomData(10_000)
	for _, ps := range []int64{0, 1000, 3000, 10_000, 4096} {
		s, err := digest(bytes.NewReader(data), ps)
		require.NoError(t, err)
		whole := md5.Sum(data)
		assert.Equal(t, hex.EncodeToString(whole[:]), s.md5)
		assert.Equal(t, crc.Checksum(data), s.crc)
		assert.Equal(t, int64(len(data)), s.size)
		if ps == 0 {
			assert.Empty(t, s.multipart)
			continue
		}
		var cat []byte
		n := 0
		for off := int64(0); off < int64(len(data)); off += ps {
			p := md5.Sum(data[off:min(off+ps, int64(len(data)))])
			cat = append(cat, p[:]...)
			n++
		}
		agg := md5.Sum(cat)
		assert.Equal(t, fmt.Sprintf("%s-%d", hex.EncodeToString(agg[:]), n), s.multipart, "part size %d", ps)
		assert.Equal(t, int64(n), partsOf(s.multipart, int64(len(data)), ps))
	}
	assert.Zero(t, partsOf("abc-2", 10, 5), "not an MD5 before the dash")
	assert.Zero(t, partsOf("d41d8cd98f00b204e9800998ecf8427e-3", 10, 5), "part count does not match the size")
}

func randomData(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
