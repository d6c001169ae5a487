package local

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestValidateKey(t *testing.T) {
	seg255 := strings.Repeat("s", 255)
	cases := []struct {
		key    string
		reason string // "" = valid
	}{
		{"a", ""},
		{"a/b/c.txt", ""},
		{"with space/+%?#&=é中文", ""},
		{seg255 + "/" + seg255, ""},
		{strings.Repeat("k/", 511) + "k", ""}, // exactly 1023 bytes
		{"x/.ferry-multipart/y", ""},          // reserved only at the root
		{".ferry-multipartx", ""},
		{"a/.ferry-tmpx", ""},
		{"", "empty key"},
		{strings.Repeat("k", storage.MaxKeyLen+1), "longer than the 1023-byte limit"},
		{"bad\xffutf8", "not valid UTF-8"},
		{"nul\x00byte", "NUL byte"},
		{"/abs", `leading "/"`},
		{"dir/", "S3 directory marker"},
		{"a//b", "empty path segment"},
		{"a/./b", `"." path segment`},
		{"../escape", `".." path segment`},
		{"a/..", `".." path segment`},
		{"a/" + seg255 + "s", "path segment longer than 255 bytes, the filesystem limit"},
		{".ferry-multipart", "reserved for multipart staging"},
		{".ferry-multipart/x", "reserved for multipart staging"},
		{".ferry-tmp-123", "reserved for files being written"},
		{"a/.ferry-tmp-x/b", "reserved for files being written"},
	}
	for _, tc := range cases {
		name := tc.key
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		t.Run(name, func(t *testing.T) {
			err := validateKey(tc.key)
			if tc.reason == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, storage.ErrInvalidKey)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}
}

// Every entry point rejects invalid keys the same way, naming the key.
func TestInvalidKeyRejectedByEveryOp(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	const key = "a//b"
	ops := map[string]func() error{
		"stat": func() error { _, err := b.Stat(ctx, key); return err },
		"open": func() error { _, _, err := b.Open(ctx, key, 0, -1); return err },
		"put": func() error {
			_, err := b.Put(ctx, key, strings.NewReader("x"), storage.ObjectInfo{Size: 1})
			return err
		},
		"delete":        func() error { return b.Delete(ctx, key) },
		"create-upload": func() error { _, err := b.CreateUpload(ctx, key, storage.ObjectInfo{}); return err },
	}
	for op, fn := range ops {
		t.Run(op, func(t *testing.T) {
			err := fn()
			require.ErrorIs(t, err, storage.ErrInvalidKey)
			assert.Equal(t, storage.Permanent, storage.Classify(err))
			assert.Contains(t, err.Error(), `"a//b"`)
			assert.Contains(t, err.Error(), "empty path segment")
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, op, se.Op)
		})
	}
}
