package snapshot

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/local"
)

const snapPrefix = "backups/s1/"

var snapObjects = []struct{ key, body string }{
	{"a", "alpha"},
	{"dir/b", "bravo!"},
	{"dir/c", "charlie"},
	{"e", ""},
}

// newSnapshot stores snapObjects under snapPrefix with their manifest,
// plus a stray object the manifest does not list.
func newSnapshot(t *testing.T) *local.Backend {
	t.Helper()
	ctx := context.Background()
	b := newLocal(t)
	for _, o := range snapObjects {
		_, err := b.Put(ctx, snapPrefix+o.key, strings.NewReader(o.body), storage.ObjectInfo{Size: int64(len(o.body))})
		require.NoError(t, err)
	}
	_, err := b.Put(ctx, snapPrefix+"stray", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
	require.NoError(t, err)
	_, err = Put(ctx, b, Header{Job: "j", Pass: 1, Prefix: snapPrefix, Started: t0}, PutOptions{TempDir: t.TempDir()}, func(w *Writer) error {
		for i, o := range snapObjects {
			e := Entry{Key: o.key, Size: int64(len(o.body)), ModTime: t0.Add(time.Duration(i) * time.Minute),
				CRC64: crc.Checksum([]byte(o.body)), HasCRC64: true, ETag: "source-etag"}
			if err := w.Add(e); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	return b
}

func listAll(t *testing.T, s storage.Backend, prefix, startAfter string) []storage.ObjectInfo {
	t.Helper()
	var out []storage.ObjectInfo
	require.NoError(t, s.List(context.Background(), prefix, startAfter, func(oi storage.ObjectInfo) error {
		out = append(out, oi)
		return nil
	}))
	return out
}

func TestSourceList(t *testing.T) {
	s := NewSource(newSnapshot(t), snapPrefix)
	require.Equal(t, "snapshot backups/s1/ of local "+s.inner.(*local.Backend).Root(), s.String())

	all := listAll(t, s, "", "")
	require.Len(t, all, 4, "the stray object is not in the manifest, so not listed")
	require.Equal(t, storage.ObjectInfo{Key: "dir/b", Size: 6, ModTime: t0.Add(time.Minute),
		CRC64: crc.Checksum([]byte("bravo!")), HasCRC64: true}, all[1], "relative key, manifest CRC64, no ETag")

	keys := func(ois []storage.ObjectInfo) []string {
		out := []string{}
		for _, oi := range ois {
			out = append(out, oi.Key)
		}
		return out
	}
	for _, tc := range []struct {
		prefix, startAfter string
		want               []string
	}{
		{"", "", []string{"a", "dir/b", "dir/c", "e"}},
		{"dir/", "", []string{"dir/b", "dir/c"}},
		{"", "dir/b", []string{"dir/c", "e"}},
		{"dir/", "dir/b", []string{"dir/c"}},
		{"", "e", []string{}},
		{"zzz", "", []string{}},
		{"a", "", []string{"a"}},
	} {
		require.Equal(t, tc.want, keys(listAll(t, s, tc.prefix, tc.startAfter)), "prefix %q after %q", tc.prefix, tc.startAfter)
	}

	stop := errors.New("stop")
	err := s.List(context.Background(), "", "", func(storage.ObjectInfo) error { return stop })
	require.ErrorIs(t, err, stop)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.List(ctx, "", "", func(storage.ObjectInfo) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

func TestSourceIncomplete(t *testing.T) {
	b := newSnapshot(t)
	s := NewSource(b, "backups/s2/")
	err := s.List(context.Background(), "", "", func(storage.ObjectInfo) error { return nil })
	require.ErrorIs(t, err, ErrIncomplete)
	require.ErrorContains(t, err, "backups/s2.ferry-manifest")
}

func TestSourceStatOpen(t *testing.T) {
	ctx := context.Background()
	b := newSnapshot(t)

	// Cold: a Source that has not listed (a worker process) reports
	// "unknown" for what only the manifest knows, never the copy's own.
	cold := NewSource(b, snapPrefix)
	info, err := cold.Stat(ctx, "dir/b")
	require.NoError(t, err)
	require.Equal(t, "dir/b", info.Key)
	require.Equal(t, int64(6), info.Size)
	require.False(t, info.HasCRC64)
	require.True(t, info.ModTime.IsZero())
	require.Empty(t, info.ETag)

	// Warm: after List, the manifest's CRC64 and ModTime.
	s := NewSource(b, snapPrefix)
	listed := listAll(t, s, "", "")
	for _, want := range listed {
		info, err := s.Stat(ctx, want.Key)
		require.NoError(t, err)
		require.Equal(t, want.CRC64, info.CRC64)
		require.True(t, info.HasCRC64)
		require.True(t, want.ModTime.Equal(info.ModTime))
		require.Empty(t, info.ETag)
		require.Empty(t, storage.Changed(want, info), "Stat agrees with List")

		r, oinfo, err := s.Open(ctx, want.Key, 0, -1)
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.Equal(t, want.CRC64, crc.Checksum(data), "the bytes read match the manifest")
		require.Equal(t, want.Size, oinfo.Size)
		require.Equal(t, want.CRC64, oinfo.CRC64)
		require.Empty(t, storage.Changed(want, oinfo), "Open agrees with List")
	}

	r, _, err := s.Open(ctx, "dir/c", 2, 3)
	require.NoError(t, err)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, "arl", string(data))

	_, err = s.Stat(ctx, "missing")
	require.ErrorIs(t, err, storage.ErrNotFound)

	// A stored copy whose size disagrees with the manifest is damage.
	_, err = b.Put(ctx, snapPrefix+"a", strings.NewReader("alpha+"), storage.ObjectInfo{Size: 6})
	require.NoError(t, err)
	_, _, err = s.Open(ctx, "a", 0, -1)
	require.ErrorIs(t, err, storage.ErrSizeMismatch)
	require.ErrorContains(t, err, "the manifest says 5")
}

func TestSourceCacheBounded(t *testing.T) {
	ctx := context.Background()
	s := newSource(newSnapshot(t), snapPrefix, 2)
	listAll(t, s, "", "")
	require.Equal(t, 2, s.order.Len())
	require.Len(t, s.byKey, 2)

	// The two most recently listed entries are known, the others not.
	for key, known := range map[string]bool{"a": false, "dir/b": false, "dir/c": true, "e": true} {
		info, err := s.Stat(ctx, key)
		require.NoError(t, err)
		require.Equal(t, known, info.HasCRC64, key)
	}
}

func TestSourceReadOnly(t *testing.T) {
	ctx := context.Background()
	b := newSnapshot(t)
	s := NewSource(b, snapPrefix)
	_, err := s.Put(ctx, "a", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
	require.ErrorIs(t, err, storage.ErrAccessDenied)
	require.ErrorContains(t, err, "read-only")
	require.Equal(t, storage.Permanent, storage.Classify(err))
	require.ErrorIs(t, s.Delete(ctx, "a"), storage.ErrAccessDenied)

	// Nothing changed underneath.
	info, err := b.Stat(ctx, snapPrefix+"a")
	require.NoError(t, err)
	require.Equal(t, int64(5), info.Size)
}

func TestSourceConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newSource(newSnapshot(t), snapPrefix, 3)
	done := make(chan error)
	go func() {
		var err error
		for range 20 {
			err = errors.Join(err, s.List(ctx, "", "", func(storage.ObjectInfo) error { return nil }))
		}
		done <- err
	}()
	for range 50 {
		for _, o := range snapObjects {
			r, info, err := s.Open(ctx, o.key, 0, -1)
			require.NoError(t, err)
			require.NoError(t, r.Close())
			require.Equal(t, int64(len(o.body)), info.Size)
		}
	}
	require.NoError(t, <-done)
}
