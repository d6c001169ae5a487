package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// TestCreateOnlyOverEmptyDirectory: an empty directory where the key's
// file would go is no object (as for an unconditional Put): create-only
// replaces it.
func TestCreateOnlyOverEmptyDirectory(t *testing.T) {
	b := newTestBackend(t, Options{})
	require.NoError(t, os.Mkdir(filepath.Join(b.Root(), "k"), 0o755))
	_, err := b.Put(context.Background(), "k", strings.NewReader("x"), storage.ObjectInfo{Size: 1, Condition: storage.IfAbsent()})
	require.NoError(t, err)
	assert.Equal(t, "x", get(t, b, "k", 0, -1))
}
