package backends

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestSpecNeverPrintsSecrets(t *testing.T) {
	s := Spec{Type: S3, Endpoint: "https://h", Bucket: "b", AccessKey: "AKIDSECRETID", SecretKey: "topsecretvalue", SessionToken: "tokentokentoken"}
	holder := struct{ Src Spec }{s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{s, &s, holder, []Spec{s}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, "topsecretvalue", verb)
			assert.NotContains(t, out, "tokentokentoken", verb)
			assert.NotContains(t, out, "AKIDSECRETID", verb)
		}
	}
	assert.Equal(t, `s3 bucket "b" prefix "" at https://h`, s.String())
}

func TestOpenUnknownType(t *testing.T) {
	_, err := Open(t.Context(), Spec{Type: "qiniu"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"qiniu" is not supported (supported: local, s3, oss, hdfs, http)`)
}

// A missing local directory is created for a destination only.
func TestOpenLocalMissingRoot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		open    func(context.Context, Spec) (storage.Backend, error)
		created bool
	}{
		{"source", Open, false},
		{"destination", OpenDest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "a", "b")
			b, err := tc.open(t.Context(), Spec{Type: Local, Root: root})
			_, statErr := os.Stat(root)
			if !tc.created {
				require.Error(t, err)
				assert.Contains(t, err.Error(), root, "the error names the path")
				assert.ErrorIs(t, statErr, fs.ErrNotExist, "a source directory is never created")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, b)
			assert.NoError(t, statErr)
		})
	}
}

func TestOpenDestUncreatable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := OpenDest(t.Context(), Spec{Type: Local, Root: filepath.Join(file, "dir")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), file, "the error names the path")
}
