package retry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// TestConformance: wrapping must not change what a backend promises.
func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Harness{
		New: func(t *testing.T) (storage.Backend, func() storage.Backend) {
			dir := t.TempDir()
			open := func() storage.Backend {
				b, err := local.New(dir, local.Options{})
				require.NoError(t, err)
				return retry.New(b, retry.Policy{})
			}
			return open(), open
		},
		NoMetadata: true, MaxSegment: 255, NoParentChildKeys: true,
		Conditions: storage.Conditions{PutIfAbsent: true, PutIfMatch: true, CompleteIfAbsent: true, CompleteIfMatch: true},
	})
}
