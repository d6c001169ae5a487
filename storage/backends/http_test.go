package backends

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestOpenHTTP(t *testing.T) {
	list := filepath.Join(t.TempDir(), "urls.list")
	s := Spec{Type: HTTP, ListFile: list, PrefixColumn: 1, RelativeColumn: 2, AccessKey: "LTAIEXAMPLE", SecretKey: "topsecret"}
	b, err := Open(t.Context(), s)
	require.NoError(t, err, "opening reads nothing: workers may open before the list is there")
	assert.Contains(t, b.String(), list)
	assert.NotContains(t, b.String(), "topsecret")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", s, s, s), "topsecret")

	c, ok := b.(storage.Checker)
	require.True(t, ok)
	assert.ErrorIs(t, c.Check(t.Context()), storage.ErrConfig, "a missing list is reported when the job starts")
	require.NoError(t, os.WriteFile(list, []byte("http://h/ k\n"), 0o644))
	assert.NoError(t, c.Check(t.Context()))

	_, err = OpenDest(t.Context(), s)
	assert.ErrorContains(t, err, "source only")
	_, err = Open(t.Context(), Spec{Type: HTTP, ListFile: list, PrefixColumn: 2, RelativeColumn: 2})
	assert.ErrorContains(t, err, "both 2")
}
