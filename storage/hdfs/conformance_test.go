package hdfs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// TestSourceConformance runs the read-only source suite over the
// in-memory fake, at a nested root and at the file system's root (where
// path joining differs). live_test.go runs the same suite on a cluster.
func TestSourceConformance(t *testing.T) {
	for _, root := range []string{"/user/ferry/src", "/"} {
		t.Run(root, func(t *testing.T) {
			storagetest.RunSource(t, storagetest.SourceHarness{
				Seed: func(t *testing.T, objs map[string][]byte) storage.Backend {
					b, err := newBackend(newFake(root, objs), "fake", root, Options{})
					require.NoError(t, err)
					return b
				},
			})
		})
	}
}
