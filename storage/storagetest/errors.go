package storagetest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func testNotFound(t *testing.T, h Harness) {
	b, _ := h.New(t)
	check := func(op string, err error) {
		t.Helper()
		require.Error(t, err, op)
		assert.ErrorIs(t, err, storage.ErrNotFound, op)
		assert.Equal(t, storage.Permanent, storage.Classify(err), op)
		assert.Contains(t, err.Error(), "missing/key", "%s error names the key", op)
		var se *storage.Error
		if assert.True(t, errors.As(err, &se), "%s returns a *storage.Error", op) {
			assert.Equal(t, b.String(), se.Backend)
		}
	}
	_, err := b.Stat(ctxT(t), "missing/key")
	check("stat", err)
	_, _, err = b.Open(ctxT(t), "missing/key", 0, -1)
	check("open", err)
	_, _, err = b.Open(ctxT(t), "missing/key", 10, 5)
	check("ranged open", err)
	assert.NoError(t, b.Delete(ctxT(t), "missing/key"))
}

func testAccessDenied(t *testing.T, h Harness) {
	if h.Denied == nil {
		t.Skip("harness cannot arrange a denied key here; the backend's own tests cover access denial")
	}
	b, key := h.Denied(t)
	_, err := b.Stat(ctxT(t), key)
	assert.ErrorIs(t, err, storage.ErrAccessDenied, "stat")
	assert.Equal(t, storage.Permanent, storage.Classify(err))
	_, _, err = b.Open(ctxT(t), key, 0, -1)
	assert.ErrorIs(t, err, storage.ErrAccessDenied, "open")
	assert.Equal(t, storage.Permanent, storage.Classify(err))
	assert.Contains(t, err.Error(), key)
}

func testContextCanceled(t *testing.T, h Harness) {
	b, _ := h.New(t)
	data := randomBytes(4<<20, 7)
	put(t, b, "big", data)
	canceled, cancel := context.WithCancel(ctxT(t))
	cancel()
	isCanceled := func(op string, err error) {
		t.Helper()
		require.Error(t, err, op)
		assert.ErrorIs(t, err, context.Canceled, op)
		assert.Equal(t, storage.Canceled, storage.Classify(err), op)
	}
	_, err := b.Stat(canceled, "big")
	isCanceled("stat", err)
	_, _, err = b.Open(canceled, "big", 0, -1)
	isCanceled("open", err)
	err = b.List(canceled, "", "", func(storage.ObjectInfo) error { return nil })
	isCanceled("list", err)
	_, err = b.Put(canceled, "other", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
	isCanceled("put", err)

	t.Run("mid-read", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctxT(t))
		rc, _, err := b.Open(ctx, "big", 0, -1)
		require.NoError(t, err)
		defer rc.Close()
		_, err = io.ReadFull(rc, make([]byte, 1024))
		require.NoError(t, err)
		cancel()
		_, err = io.Copy(io.Discard, rc)
		isCanceled("read after cancel", err)
	})
}
