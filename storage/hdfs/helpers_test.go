package hdfs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

const testRoot = "/data/src"

// fakeBackend returns a backend over a fake holding objs under testRoot.
func fakeBackend(t *testing.T, objs map[string][]byte, opts Options) (*Backend, *fakeFS) {
	t.Helper()
	f := newFake(testRoot, objs)
	b, err := newBackend(f, "fake", testRoot, opts)
	require.NoError(t, err)
	return b, f
}

func keyMap(keys ...string) map[string][]byte {
	m := make(map[string][]byte, len(keys))
	for _, k := range keys {
		m[k] = []byte(k)
	}
	return m
}

func listKeys(t *testing.T, b *Backend, prefix, after string) []string {
	t.Helper()
	var keys []string
	err := b.List(t.Context(), prefix, after, func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	require.NoError(t, err, "list %q after %q", prefix, after)
	return keys
}
