package local

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

func TestConformance(t *testing.T) {
	h := storagetest.Harness{
		New: func(t *testing.T) (storage.Backend, func() storage.Backend) {
			dir := t.TempDir()
			b, err := New(dir, Options{})
			require.NoError(t, err)
			return b, func() storage.Backend {
				again, err := New(dir, Options{})
				require.NoError(t, err)
				return again
			}
		},
		NoMetadata:        true,
		MaxSegment:        maxSegment,
		NoParentChildKeys: true,
		// If-match with the window publish documents.
		Conditions: storage.Conditions{PutIfAbsent: true, PutIfMatch: true, CompleteIfAbsent: true, CompleteIfMatch: true},
	}
	// Root reads a mode-0000 file all the same; as root,
	// TestAccessDeniedAsNobody covers denial by re-running as nobody.
	if os.Geteuid() != 0 {
		h.Denied = deniedHarness
	}
	storagetest.Run(t, h)
}
