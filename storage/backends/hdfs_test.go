package backends

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// An HDFS spec opens as a source without contacting the cluster (so no
// HDFS is needed here), and is refused as a destination: ferry never
// writes HDFS.
func TestOpenHDFS(t *testing.T) {
	s := Spec{Type: HDFS, Root: "/data/src", HDFSNamenodes: []string{"127.0.0.1:1", "127.0.0.2:1"}, HDFSUser: "ferry"}
	assert.Equal(t, "hdfs /data/src at 127.0.0.1:1,127.0.0.2:1", s.String())
	b, err := Open(t.Context(), s)
	require.NoError(t, err)
	assert.Contains(t, b.String(), "hdfs://127.0.0.1:1,127.0.0.2:1/data/src")
	_, ok := b.(storage.LevelLister)
	assert.True(t, ok, "the scanner can list its top level in parallel")

	_, err = OpenDest(t.Context(), s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"hdfs" is supported as a source only (destinations: local, s3, oss)`)
	assert.NotContains(t, Destinations, HDFS)
	assert.Contains(t, Supported, HDFS)
}
