package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/storage"
)

func TestParseChecksum(t *testing.T) {
	for _, c := range []struct {
		in, algo, err string
	}{
		{"crc64nvme:WZvzgmIcGKc=", "crc64nvme", ""},
		{"crc32c:AAAAAA==", "crc32c", ""},
		{"crc32:iBR48A==", "crc32", ""},
		{"crc64nvme:iBR48A==", "", "not the base64 of 8 bytes"},
		{"sha256:abc", "", "algorithm \"sha256\" unknown"},
		{"WZvzgmIcGKc=", "", "want <algorithm>:<base64>"},
		{"crc32:!!", "", "not the base64"},
	} {
		algo, _, err := storage.ParseChecksum(c.in)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.in)
			continue
		}
		assert.NoError(t, err, c.in)
		assert.Equal(t, c.algo, algo, c.in)
	}
}
