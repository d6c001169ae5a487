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

// The wrapper states the wrapped backend's part limits, not S3's default:
// a local destination must not have its parts held to 5 MiB.
func TestPartLimitsPassThrough(t *testing.T) {
	b, err := local.New(t.TempDir(), local.Options{})
	require.NoError(t, err)
	w, ok := retry.New(b, retry.Policy{}).(storage.Multipart)
	require.True(t, ok)
	require.Equal(t, storage.NoPartLimits(), storage.LimitsOf(w))
}
