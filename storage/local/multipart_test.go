package local

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
)

func uploadPart(t *testing.T, b *Backend, u storage.Upload, n int, body string) storage.Part {
	t.Helper()
	p, err := b.UploadPart(context.Background(), u, n, strings.NewReader(body), int64(len(body)))
	require.NoError(t, err, "part %d", n)
	return p
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestMultipartResumeFromNewInstance(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	first, err := New(root, Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), first.MinPartSize())
	mtime := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC)
	u, err := first.CreateUpload(ctx, "big/object.bin", storage.ObjectInfo{ModTime: mtime})
	require.NoError(t, err)
	assert.Equal(t, "big/object.bin", u.Key)
	assert.Len(t, u.ID, 32)

	bodies := []string{strings.Repeat("a", 1000), strings.Repeat("b", 1000), "tail"}
	p3 := uploadPart(t, first, u, 3, bodies[2])
	replaced := uploadPart(t, first, u, 1, "will be replaced")
	p1 := uploadPart(t, first, u, 1, bodies[0])
	assert.NotEqual(t, replaced.ETag, p1.ETag, "re-uploading a part number replaces the part")
	assert.Equal(t, storage.Part{Number: 1, Size: 1000, ETag: md5hex(bodies[0]), CRC64: crc.Checksum([]byte(bodies[0])), HasCRC64: true}, p1)
	assert.Equal(t, md5hex("tail"), p3.ETag)
	assert.Empty(t, listKeys(t, first, "", ""), "nothing is visible before completion")

	// "The process restarts": only the Upload value survives.
	second, err := New(root, Options{})
	require.NoError(t, err)
	parts, err := second.ListParts(ctx, u)
	require.NoError(t, err)
	assert.Equal(t, []storage.Part{p1, p3}, parts)
	var uploads []storage.Upload
	require.NoError(t, second.ListUploads(ctx, "big/", func(up storage.Upload) error {
		uploads = append(uploads, up)
		return nil
	}))
	assert.Equal(t, []storage.Upload{u}, uploads)

	p2 := uploadPart(t, second, u, 2, bodies[1])
	info, err := second.CompleteUpload(ctx, u, []storage.Part{p1, p2, p3})
	require.NoError(t, err)
	whole := strings.Join(bodies, "")
	assert.Equal(t, "big/object.bin", info.Key)
	assert.Equal(t, int64(len(whole)), info.Size)
	assert.True(t, info.HasCRC64)
	assert.Equal(t, crc.Checksum([]byte(whole)), info.CRC64)
	assert.True(t, mtime.Equal(info.ModTime), "the ModTime given to CreateUpload is applied")
	assert.Equal(t, whole, get(t, second, "big/object.bin", 0, -1))

	assert.Equal(t, []string{"big/object.bin"}, listKeys(t, second, "", ""))
	assert.Empty(t, leftovers(t, root, "big/object.bin", ".ferry-multipart"), "staging is removed")
	_, err = second.ListParts(ctx, u)
	require.ErrorIs(t, err, storage.ErrNoSuchUpload)
	assert.Equal(t, storage.Permanent, storage.Classify(err))
}

func TestMultipartEmptySinglePart(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	u, err := b.CreateUpload(ctx, "empty", storage.ObjectInfo{})
	require.NoError(t, err)
	p := uploadPart(t, b, u, 1, "")
	info, err := b.CompleteUpload(ctx, u, []storage.Part{p})
	require.NoError(t, err)
	assert.Equal(t, int64(0), info.Size)
	assert.True(t, info.HasCRC64)
	assert.Equal(t, uint64(0), info.CRC64)
	assert.Equal(t, "", get(t, b, "empty", 0, -1))
}

func TestCompleteUploadRejectsBadPartLists(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	u, err := b.CreateUpload(ctx, "k", storage.ObjectInfo{})
	require.NoError(t, err)
	p1 := uploadPart(t, b, u, 1, "one")
	p2 := uploadPart(t, b, u, 2, "two")
	empty := uploadPart(t, b, u, 3, "")
	withETag := func(p storage.Part, etag string) storage.Part { p.ETag = etag; return p }
	withSize := func(p storage.Part, size int64) storage.Part { p.Size = size; return p }
	cases := []struct {
		name  string
		parts []storage.Part
		want  string
		is    error
	}{
		{"none", nil, "no parts given", nil},
		{"missing part", []storage.Part{p1, {Number: 4, ETag: "x", Size: 1}}, "part 4 was never uploaded", nil},
		{"stale ETag", []storage.Part{withETag(p1, md5hex("other")), p2}, "part 1: ETag", nil},
		{"upper-case ETag is the same ETag", []storage.Part{withETag(p1, `"`+strings.ToUpper(p1.ETag)+`"`), withSize(p2, 4)}, "part 2: 4 bytes given", storage.ErrSizeMismatch},
		{"out of order", []storage.Part{p2, p1}, "part 1 listed after part 2", nil},
		{"duplicate", []storage.Part{p1, p1}, "part 1 listed after part 1", nil},
		{"empty part not last", []storage.Part{p1, empty, p2}, "part 3 is empty", nil},
		{"number out of range", []storage.Part{{Number: 0}}, "outside 1..10000", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.CompleteUpload(ctx, u, tc.parts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Equal(t, storage.Permanent, storage.Classify(err))
		})
	}
	assert.Empty(t, listKeys(t, b, "", ""), "a failed completion stores nothing")
	parts, err := b.ListParts(ctx, u)
	require.NoError(t, err)
	assert.Len(t, parts, 3, "and keeps the upload")

	info, err := b.CompleteUpload(ctx, u, []storage.Part{p1, p2, empty})
	require.NoError(t, err, "an empty last part is fine")
	assert.Equal(t, "onetwo", get(t, b, "k", 0, -1))
	assert.Equal(t, crc.Checksum([]byte("onetwo")), info.CRC64)
}

func TestCompleteUploadDetectsDamagedPart(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	u, err := b.CreateUpload(ctx, "k", storage.ObjectInfo{})
	require.NoError(t, err)
	p := uploadPart(t, b, u, 1, "precious data")
	path := filepath.Join(b.Root(), stagingDir, u.ID, "part-00001")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("P"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, err = b.CompleteUpload(ctx, u, []storage.Part{p})
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Contains(t, err.Error(), path)
	assert.Empty(t, listKeys(t, b, "", ""))

	// A part whose trailer is gone is not listed, so it gets re-sent.
	require.NoError(t, os.Truncate(path, 5))
	parts, err := b.ListParts(ctx, u)
	require.NoError(t, err)
	assert.Empty(t, parts)
}

func TestUploadPartErrors(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	u, err := b.CreateUpload(ctx, "k", storage.ObjectInfo{})
	require.NoError(t, err)

	_, err = b.UploadPart(ctx, u, 1, strings.NewReader("abc"), 5)
	require.ErrorIs(t, err, storage.ErrSizeMismatch)
	_, err = b.UploadPart(ctx, u, 1, strings.NewReader("abcdef"), 5)
	require.ErrorIs(t, err, storage.ErrSizeMismatch)
	_, err = b.UploadPart(ctx, u, 0, strings.NewReader(""), 0)
	require.ErrorContains(t, err, "outside 1..10000")
	_, err = b.UploadPart(ctx, u, storage.MaxParts+1, strings.NewReader(""), 0)
	require.ErrorContains(t, err, "outside 1..10000")
	parts, err := b.ListParts(ctx, u)
	require.NoError(t, err)
	assert.Empty(t, parts, "failed parts leave nothing")
	entries, err := os.ReadDir(filepath.Join(b.Root(), stagingDir, u.ID))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "only upload.json: no temp files")

	unknown := []storage.Upload{
		{Key: "k", ID: strings.Repeat("0", 32)},
		{Key: "k", ID: "../../etc"},
		{Key: "k", ID: ""},
		{Key: "other", ID: u.ID}, // exists, but for another key
	}
	for _, bad := range unknown {
		_, err = b.UploadPart(ctx, bad, 1, strings.NewReader("x"), 1)
		require.ErrorIs(t, err, storage.ErrNoSuchUpload, "%+v", bad)
		_, err = b.ListParts(ctx, bad)
		require.ErrorIs(t, err, storage.ErrNoSuchUpload, "%+v", bad)
		_, err = b.CompleteUpload(ctx, bad, []storage.Part{{Number: 1}})
		require.ErrorIs(t, err, storage.ErrNoSuchUpload, "%+v", bad)
		require.NoError(t, b.AbortUpload(ctx, bad), "abort of what does not exist succeeds")
	}
	_, err = b.ListParts(ctx, u)
	require.NoError(t, err, "aborting with the wrong key left the upload alone")
}

func TestAbortAndListUploads(t *testing.T) {
	root := t.TempDir()
	b, err := New(root, Options{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, b.ListUploads(ctx, "", func(storage.Upload) error {
		t.Fatal("no staging area yet, so no uploads")
		return nil
	}))
	var ups []storage.Upload
	for _, k := range []string{"logs/a", "logs/b", "img/c"} {
		u, err := b.CreateUpload(ctx, k, storage.ObjectInfo{})
		require.NoError(t, err)
		uploadPart(t, b, u, 1, "part of "+k)
		ups = append(ups, u)
	}
	list := func(prefix string) []string {
		var keys []string
		require.NoError(t, b.ListUploads(ctx, prefix, func(u storage.Upload) error {
			keys = append(keys, u.Key)
			return nil
		}))
		return keys
	}
	assert.ElementsMatch(t, []string{"logs/a", "logs/b"}, list("logs/"))
	assert.Len(t, list(""), 3)

	require.NoError(t, b.AbortUpload(ctx, ups[0]))
	require.NoError(t, b.AbortUpload(ctx, ups[0]), "abort is safe to repeat")
	assert.Equal(t, []string{"logs/b"}, list("logs/"))
	_, err = b.UploadPart(ctx, ups[0], 2, strings.NewReader("x"), 1)
	require.ErrorIs(t, err, storage.ErrNoSuchUpload)
	_, err = b.CompleteUpload(ctx, ups[0], []storage.Part{{Number: 1}})
	require.ErrorIs(t, err, storage.ErrNoSuchUpload)

	for _, u := range ups[1:] {
		require.NoError(t, b.AbortUpload(ctx, u))
	}
	assert.Empty(t, list(""))
	assert.Empty(t, leftovers(t, root, ".ferry-multipart"))
}

func TestMultipartKeysAreValidated(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	for _, key := range []string{".ferry-multipart/x", "a/", "", "a/../b"} {
		_, err := b.CreateUpload(ctx, key, storage.ObjectInfo{})
		require.ErrorIs(t, err, storage.ErrInvalidKey, key)
	}
	_, err := b.Put(ctx, ".ferry-multipart/x", strings.NewReader(""), storage.ObjectInfo{})
	require.ErrorIs(t, err, storage.ErrInvalidKey)

	// Completing onto a key that a directory of other keys holds fails
	// clearly, and the upload survives to be aborted or retried.
	put(t, b, "dir/child", "x")
	u, err := b.CreateUpload(ctx, "dir", storage.ObjectInfo{})
	require.NoError(t, err)
	p := uploadPart(t, b, u, 1, "x")
	_, err = b.CompleteUpload(ctx, u, []storage.Part{p})
	require.ErrorIs(t, err, storage.ErrInvalidKey)
	_, err = b.ListParts(ctx, u)
	require.NoError(t, err)
}

func TestMultipartContextCanceled(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	u, err := b.CreateUpload(ctx, "k", storage.ObjectInfo{})
	require.NoError(t, err)
	p := uploadPart(t, b, u, 1, "x")
	cancel()
	_, err = b.UploadPart(ctx, u, 2, strings.NewReader("x"), 1)
	require.ErrorIs(t, err, context.Canceled)
	_, err = b.ListParts(ctx, u)
	require.ErrorIs(t, err, context.Canceled)
	_, err = b.CompleteUpload(ctx, u, []storage.Part{p})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, b.AbortUpload(ctx, u), context.Canceled)
	require.ErrorIs(t, b.ListUploads(ctx, "", func(storage.Upload) error { return nil }), context.Canceled)
	_, err = b.CreateUpload(ctx, "k2", storage.ObjectInfo{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestConcurrentCompletes: uploads ending together must not trip over the
// shared staging directory one of them removes.
func TestConcurrentCompletes(t *testing.T) {
	b, err := New(t.TempDir(), Options{})
	require.NoError(t, err)
	ctx := t.Context()
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("r%d/o%d", round, i)
				u, err := b.CreateUpload(ctx, key, storage.ObjectInfo{})
				if err != nil {
					errs <- err
					return
				}
				p, err := b.UploadPart(ctx, u, 1, strings.NewReader("data"), 4)
				if err == nil {
					_, err = b.CompleteUpload(ctx, u, []storage.Part{p})
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	_, err = os.Stat(filepath.Join(b.Root(), stagingDir))
	assert.True(t, os.IsNotExist(err), "no staging directory left behind")
}
