package s3_test

import (
	"bytes"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/s3"
)

func TestCopySource(t *testing.T) {
	cases := []struct{ key, want string }{
		{"plain/key.txt", "b/plain/key.txt"},
		{"with space", "b/with%20space"},
		{"plus+sign", "b/plus%2Bsign"},
		{"percent%20", "b/percent%2520"},
		{"q?x#y&z=1", "b/q%3Fx%23y%26z%3D1"},
		{"日本", "b/%E6%97%A5%E6%9C%AC"},
		{"a~b-c_d.e", "b/a~b-c_d.e"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			got := s3.CopySource("b", tc.key)
			assert.Equal(t, tc.want, got)
			// Both decodings servers use give the key back.
			for _, dec := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
				k, err := dec(got[2:])
				require.NoError(t, err)
				assert.Equal(t, tc.key, k)
			}
		})
	}
}

func TestCopyPartSize(t *testing.T) {
	const mib, gib = int64(1 << 20), int64(1 << 30)
	cases := []struct {
		name             string
		size, min, limit int64
		want             int64
	}{
		{"small object: the minimum", 6 * gib, 5 * mib, 5 * gib, 5 * mib},
		{"5 TB: 10,000 parts at most", 5 << 40, 5 * mib, 5 * gib, (5<<40 + 9999) / 10000},
		{"lowered limit below the minimum", 12 * mib, 5 * mib, 1 * mib, 1 * mib},
		{"never above the limit", 100 << 40, 5 * mib, 5 * gib, 5 * gib},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := s3.CopyPartSize(tc.size, tc.min, tc.limit)
			assert.Equal(t, tc.want, got)
			if tc.limit >= tc.min && tc.size <= 10000*tc.limit {
				assert.LessOrEqual(t, (tc.size+got-1)/got, int64(storage.MaxParts))
			}
		})
	}
}

// TestCopyOSSFlavour: copies through the OSS proxy are server-side (no
// object bytes read through the proxy), report the source's CRC64 for a
// single CopyObject and none for a multipart copy, as OSS does.
func TestCopyOSSFlavour(t *testing.T) {
	srv, p, cfg := ossSetup(t)
	cfg.Bucket = "copies"
	srv.CreateBucket(t, cfg.Bucket)
	b, err := s3.New(t.Context(), cfg)
	require.NoError(t, err)
	const limit = 5 << 20
	s3.SetCopyLimit(b, limit)
	ctx := t.Context()

	cases := []struct {
		name      string
		size      int
		wantCRC   bool
		wantKinds map[ossproxy.Kind]int
	}{
		{"single copy", 1000, true, map[ossproxy.Kind]int{ossproxy.KindHead: 1, ossproxy.KindCopy: 1}},
		{"at the limit", limit, true, map[ossproxy.Kind]int{ossproxy.KindHead: 1, ossproxy.KindCopy: 1}},
		{"multipart copy", 2*limit + 1, false, map[ossproxy.Kind]int{ossproxy.KindHead: 1,
			ossproxy.KindCreateUpload: 1, ossproxy.KindUploadPartCopy: 3, ossproxy.KindComplete: 1}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Repeat([]byte{byte(i + 1)}, tc.size)
			src, dst := fmt.Sprintf("src %d+", i), fmt.Sprintf("dst %d?", i)
			_, err := b.Put(ctx, src, bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
			require.NoError(t, err)
			before := p.Counts()
			res, err := b.Copy(ctx, src, dst, storage.ObjectInfo{})
			require.NoError(t, err)
			d := p.Counts().Since(before)
			assert.Equal(t, tc.wantKinds, d.ByKind)
			assert.Zero(t, d.ObjectBytes, "a server-side copy reads no object bytes")
			assert.Equal(t, int64(len(data)), res.Size)
			assert.Equal(t, tc.wantCRC, res.HasCRC64, "the copy reports a CRC64 only when OSS gives one")
			if tc.wantCRC {
				assert.Equal(t, crc.Checksum(data), res.CRC64)
			}
		})
	}
	t.Run("if-match is refused up front", func(t *testing.T) {
		before := p.Counts()
		_, err := b.Copy(ctx, "src 0+", "dst 0?", storage.ObjectInfo{Condition: storage.Condition{
			IfMatch: storage.Version{ETag: "0123456789ABCDEF0123456789ABCDEF"}}})
		require.ErrorIs(t, err, storage.ErrConditionUnsupported)
		assert.Empty(t, p.Counts().Since(before).ByKind, "nothing was sent")
	})
}
