package storagetest

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func ctxT(t *testing.T) context.Context { return t.Context() }

// randomBytes is deterministic per seed so a failure reproduces.
func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func put(t *testing.T, b storage.Backend, key string, data []byte) storage.ObjectInfo {
	t.Helper()
	info, err := b.Put(ctxT(t), key, bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
	require.NoError(t, err, "put %q", key)
	return info
}

func read(t *testing.T, b storage.Backend, key string, off, n int64) []byte {
	t.Helper()
	rc, _, err := b.Open(ctxT(t), key, off, n)
	require.NoError(t, err, "open %q at %d+%d", key, off, n)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.NoError(t, err, "read %q at %d+%d", key, off, n)
	return got
}

func listAll(t *testing.T, b storage.Backend, prefix, startAfter string) []storage.ObjectInfo {
	t.Helper()
	var out []storage.ObjectInfo
	err := b.List(ctxT(t), prefix, startAfter, func(o storage.ObjectInfo) error {
		out = append(out, o)
		return nil
	})
	require.NoError(t, err, "list prefix %q after %q", prefix, startAfter)
	return out
}

func keysOf(infos []storage.ObjectInfo) []string {
	var keys []string // nil when empty, so "no keys" compares equal to nil
	for _, o := range infos {
		keys = append(keys, o.Key)
	}
	return keys
}

func multipart(t *testing.T, b storage.Backend) storage.Multipart {
	t.Helper()
	m, ok := b.(storage.Multipart)
	if !ok {
		t.Skipf("%s does not implement storage.Multipart", b)
	}
	return m
}

// partSize is the smallest part size the backend (and the harness's
// store) accepts, but at least 64 KiB so parts are more than a single read.
func (h Harness) partSize(m storage.Multipart) int64 {
	return max(m.MinPartSize(), h.StoreMinPart, 64<<10)
}
