package s3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStopsDeclaringToAStoreThatIgnoresChecksums: a write that declared a
// checksum and got none back came from a store that ignores the header;
// later writes stop declaring (the copier then computes MD5s itself).
func TestStopsDeclaringToAStoreThatIgnoresChecksums(t *testing.T) {
	b, err := New(t.Context(), Config{Endpoint: "https://s3.example.test", Bucket: "b", AccessKey: "k", SecretKey: "s"})
	require.NoError(t, err)
	require.True(t, b.Evidence().Checksums)
	b.noteEcho("", "")
	b.noteEcho("crc64nvme:WZvzgmIcGKc=", "crc64nvme:WZvzgmIcGKc=")
	assert.True(t, b.Evidence().Checksums, "nothing declared, or an answer: still declaring")
	b.noteEcho("crc64nvme:WZvzgmIcGKc=", "")
	assert.False(t, b.Evidence().Checksums)
	assert.True(t, b.Evidence().ETagMD5)
}
