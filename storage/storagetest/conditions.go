package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// The conditional-write cases. A condition the harness claims must be
// enforced: the refused write fails with ErrPrecondition (Permanent) and
// the object under the key is byte for byte what it was. One it does not
// claim must fail with ErrConditionUnsupported, again touching nothing: a
// backend may lack a condition, never ignore one.

// refusedBy asserts err is the refusal a claimed (or unclaimed) condition
// gets.
func refusedBy(t *testing.T, claimed bool, err error, msg string) {
	t.Helper()
	if claimed {
		require.ErrorIs(t, err, storage.ErrPrecondition, msg)
	} else {
		require.ErrorIs(t, err, storage.ErrConditionUnsupported, "%s (the harness does not claim this condition)", msg)
	}
	assert.Equal(t, storage.Permanent, storage.Classify(err), "a refused condition is not retried")
}

func putIf(t *testing.T, b storage.Backend, key string, data []byte, c storage.Condition) (storage.ObjectInfo, error) {
	return b.Put(ctxT(t), key, bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)), Condition: c})
}

func stat(t *testing.T, b storage.Backend, key string) storage.ObjectInfo {
	t.Helper()
	info, err := b.Stat(ctxT(t), key)
	require.NoError(t, err, "stat %q", key)
	return info
}

// wrongVersion is v as it is not: another ETag and size, an earlier time.
func wrongVersion(info storage.ObjectInfo) storage.Condition {
	v := storage.VersionOf(info)
	v.Size++
	v.ModTime = v.ModTime.Add(-time.Hour)
	if v.ETag != "" {
		v.ETag = "0123456789abcdef0123456789abcdef"
		if storage.ETagEqual(v.ETag, info.ETag) {
			v.ETag = "fedcba9876543210fedcba9876543210"
		}
	}
	return storage.Condition{IfMatch: v}
}

func testConditionalPut(t *testing.T, h Harness) {
	b, _ := h.New(t)
	c := h.Conditions
	old, newer := []byte("written by the application"), []byte("ferry's older copy")

	t.Run("if-absent over an existing object is refused", func(t *testing.T) {
		put(t, b, "absent/exists", old)
		_, err := putIf(t, b, "absent/exists", newer, storage.IfAbsent())
		refusedBy(t, c.PutIfAbsent, err, "create-only over an existing key")
		assert.Equal(t, old, read(t, b, "absent/exists", 0, -1), "the existing object is untouched")
	})
	t.Run("if-absent on a missing key writes", func(t *testing.T) {
		_, err := putIf(t, b, "absent/new", newer, storage.IfAbsent())
		if !c.PutIfAbsent {
			refusedBy(t, false, err, "create-only")
			return
		}
		require.NoError(t, err)
		assert.Equal(t, newer, read(t, b, "absent/new", 0, -1))
	})
	t.Run("if-match with another version is refused", func(t *testing.T) {
		put(t, b, "match/other", old)
		_, err := putIf(t, b, "match/other", newer, wrongVersion(stat(t, b, "match/other")))
		refusedBy(t, c.PutIfMatch, err, "if-match on a different version")
		assert.Equal(t, old, read(t, b, "match/other", 0, -1), "the existing object is untouched")
	})
	t.Run("if-match after the object was replaced since the check is refused", func(t *testing.T) {
		put(t, b, "match/replaced", old)
		checked := stat(t, b, "match/replaced")
		again := append(bytes.Clone(old), " and again"...)
		put(t, b, "match/replaced", again) // the application writes between check and write
		_, err := putIf(t, b, "match/replaced", newer, storage.IfMatch(checked))
		refusedBy(t, c.PutIfMatch, err, "if-match on the version checked before the replacement")
		assert.Equal(t, again, read(t, b, "match/replaced", 0, -1), "the application's object survives")
	})
	t.Run("if-match on a missing key is refused", func(t *testing.T) {
		put(t, b, "match/gone", old)
		checked := stat(t, b, "match/gone")
		require.NoError(t, b.Delete(ctxT(t), "match/gone"))
		_, err := putIf(t, b, "match/gone", newer, storage.IfMatch(checked))
		refusedBy(t, c.PutIfMatch, err, "if-match on a deleted object")
		_, err = b.Stat(ctxT(t), "match/gone")
		assert.ErrorIs(t, err, storage.ErrNotFound, "nothing was written")
	})
	t.Run("if-match with the version checked replaces it", func(t *testing.T) {
		put(t, b, "match/same", old)
		_, err := putIf(t, b, "match/same", newer, storage.IfMatch(stat(t, b, "match/same")))
		if !c.PutIfMatch {
			refusedBy(t, false, err, "if-match")
			assert.Equal(t, old, read(t, b, "match/same", 0, -1))
			return
		}
		require.NoError(t, err)
		assert.Equal(t, newer, read(t, b, "match/same", 0, -1))
	})
	t.Run("if-absent and if-match together are refused up front", func(t *testing.T) {
		put(t, b, "both", old)
		both := storage.IfMatch(stat(t, b, "both"))
		both.IfAbsent = true
		_, err := putIf(t, b, "both", newer, both)
		require.ErrorIs(t, err, storage.ErrConditionUnsupported)
		assert.Equal(t, old, read(t, b, "both", 0, -1))
	})
}

// testConcurrentCreateOnly: create-only writes of one key race, each
// from its own backend instance as from separate processes; exactly one
// wins and the object is that writer's, whole.
func testConcurrentCreateOnly(t *testing.T, h Harness) {
	if !h.Conditions.PutIfAbsent {
		t.Skip("the harness does not claim create-only puts")
	}
	b, reopen := h.New(t)
	const writers = 6
	errs := make([]error, writers)
	bodies := make([][]byte, writers)
	var wg sync.WaitGroup
	for i := range writers {
		bi := reopen()
		bodies[i] = bytes.Repeat(fmt.Appendf(nil, "writer %d ", i), 4<<10)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = putIf(t, bi, "contended", bodies[i], storage.IfAbsent())
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "only one create-only write succeeds (writers %d and %d did)", winner, i)
			winner = i
			continue
		}
		assert.ErrorIs(t, err, storage.ErrPrecondition, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "one create-only write succeeds")
	assert.Equal(t, bodies[winner], read(t, b, "contended", 0, -1))
	assert.Equal(t, []string{"contended"}, keysOf(listAll(t, b, "", "")), "the refused writers leave nothing behind")
}

func testConditionalComplete(t *testing.T, h Harness) {
	b, _ := h.New(t)
	m := multipart(t, b)
	c := h.Conditions
	old, newer := []byte("written by the application"), randomBytes(1000, 20)
	// complete uploads newer as one part and completes it under cond.
	complete := func(t *testing.T, key string, cond storage.Condition) (storage.Upload, error) {
		t.Helper()
		u, err := m.CreateUpload(ctxT(t), key, storage.ObjectInfo{})
		require.NoError(t, err)
		p := uploadPart(t, m, u, 1, newer)
		t.Cleanup(func() { _ = m.AbortUpload(context.Background(), u) })
		u.Condition = cond
		_, err = m.CompleteUpload(ctxT(t), u, []storage.Part{p})
		return u, err
	}

	t.Run("if-absent over an existing object is refused, the upload kept", func(t *testing.T) {
		put(t, b, "mp-absent/exists", old)
		u, err := complete(t, "mp-absent/exists", storage.IfAbsent())
		refusedBy(t, c.CompleteIfAbsent, err, "create-only complete over an existing key")
		assert.Equal(t, old, read(t, b, "mp-absent/exists", 0, -1), "the existing object is untouched")
		held, err := m.ListParts(ctxT(t), u)
		require.NoError(t, err, "a refused complete leaves the upload in place")
		assert.Len(t, held, 1)
		require.NoError(t, m.AbortUpload(ctxT(t), u))
	})
	t.Run("if-absent on a missing key completes", func(t *testing.T) {
		_, err := complete(t, "mp-absent/new", storage.IfAbsent())
		if !c.CompleteIfAbsent {
			refusedBy(t, false, err, "create-only complete")
			return
		}
		require.NoError(t, err)
		assert.Equal(t, newer, read(t, b, "mp-absent/new", 0, -1))
	})
	t.Run("if-match with another version is refused", func(t *testing.T) {
		put(t, b, "mp-match/other", old)
		_, err := complete(t, "mp-match/other", wrongVersion(stat(t, b, "mp-match/other")))
		refusedBy(t, c.CompleteIfMatch, err, "if-match complete on a different version")
		assert.Equal(t, old, read(t, b, "mp-match/other", 0, -1), "the existing object is untouched")
	})
	t.Run("if-match with the version checked replaces it", func(t *testing.T) {
		put(t, b, "mp-match/same", old)
		_, err := complete(t, "mp-match/same", storage.IfMatch(stat(t, b, "mp-match/same")))
		if !c.CompleteIfMatch {
			refusedBy(t, false, err, "if-match complete")
			assert.Equal(t, old, read(t, b, "mp-match/same", 0, -1))
			return
		}
		require.NoError(t, err)
		assert.Equal(t, newer, read(t, b, "mp-match/same", 0, -1))
	})
}

// testProbe checks that ProbeConditions finds exactly what the harness
// claims, and leaves nothing behind.
func testProbe(t *testing.T, h Harness) {
	b, _ := h.New(t)
	put(t, b, "keep", []byte("not the probe's"))
	got, err := storage.ProbeConditions(ctxT(t), b, "probe/scratch")
	require.NoError(t, err)
	assert.Equal(t, h.Conditions, got, "the probe finds what the backend claims")
	assert.Equal(t, []string{"keep"}, keysOf(listAll(t, b, "", "")), "the probe leaves no object behind")
	if m, ok := b.(storage.Multipart); ok {
		assert.Empty(t, uploads(t, m, ""), "the probe leaves no upload behind")
	}

	_, err = storage.ProbeConditions(ctxT(t), b, "keep")
	require.Error(t, err, "a scratch key in use is refused")
	assert.Equal(t, []byte("not the probe's"), read(t, b, "keep", 0, -1), "and left untouched")
}
