package local

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// The read-only source suite runs here too, with fixtures written as plain
// files: it proves the suite against a real backend, so a source that
// fails it (storage/hdfs, an HTTP list) fails on its own account.
func TestSourceConformance(t *testing.T) {
	storagetest.RunSource(t, storagetest.SourceHarness{
		Seed: func(t *testing.T, objs map[string][]byte) storage.Backend {
			dir := t.TempDir()
			for k, data := range objs {
				p := filepath.Join(dir, filepath.FromSlash(k))
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, data, 0o644))
			}
			b, err := New(dir, Options{})
			require.NoError(t, err)
			return b
		},
		MaxSegment: maxSegment,
	})
}
