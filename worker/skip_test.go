package worker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

// withCRC makes a local backend's Stat report CRC64s, as OSS's HEAD does.
func withCRC(t *testing.T, b storage.Backend) *hooked {
	h := hook(b)
	h.stat = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		if err == nil {
			info.CRC64, info.HasCRC64 = crc.Checksum(getObj(t, b, info.Key)), true
		}
		return info, err
	}
	return h
}

// The overwrite policy on a real (local) destination: what is copied,
// what is identical, what is kept, and that kept objects are untouched.
func TestOverwritePolicyOnLocal(t *testing.T) {
	ctx := t.Context()
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(5000, 3)
	putObj(t, src, "k", data)
	obj := object(t, src, "k", "k")
	setMtime := func(key string, m time.Time) {
		require.NoError(t, os.Chtimes(filepath.Join(dst.Root(), key), m, m))
	}
	copyOnce := func(t *testing.T, p task.OverwritePolicy, d storage.Backend, obj task.Object) task.Result {
		var s storage.Backend = src
		if _, ok := d.(*hooked); ok {
			s = withCRC(t, src) // the OSS-like case: both sides report CRC64s
		}
		c := newCopier(t, Options{Src: s, Dst: d, Settings: task.CopySettings{Overwrite: p}})
		res, err := c.Copy(ctx, "job", obj)
		require.NoError(t, err)
		return res
	}
	newer := task.OverwriteIfSourceNewer

	t.Run("destination missing: copied", func(t *testing.T) {
		res := copyOnce(t, newer, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
		assert.Empty(t, res.Outcome)
	})
	t.Run("same size, newer: kept", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, newer, dst, obj)
		assert.Equal(t, task.StatusSkipped, res.Status)
		assert.Equal(t, task.OutcomeKept, res.Outcome)
		assert.Equal(t, ReasonNewer, res.Reason)
		assert.Zero(t, res.BytesRead)
	})
	t.Run("same size, as new: kept", func(t *testing.T) {
		setMtime("k", obj.ModTime)
		res := copyOnce(t, newer, dst, obj)
		assert.Equal(t, task.OutcomeKept, res.Outcome)
		assert.Equal(t, ReasonNewer, res.Reason)
	})
	t.Run("same size, older: copied", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(-time.Hour))
		res := copyOnce(t, newer, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
	})
	t.Run("size differs, newer: kept", func(t *testing.T) {
		putObj(t, dst, "k", data[:100])
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, newer, dst, obj)
		assert.Equal(t, task.OutcomeKept, res.Outcome)
		sameBytes(t, data[:100], getObj(t, dst, "k"))
	})
	t.Run("size differs, newer, if-different: copied", func(t *testing.T) {
		res := copyOnce(t, task.OverwriteIfDifferent, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
		sameBytes(t, data, getObj(t, dst, "k"))
	})
	t.Run("same CRC64, older: identical", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(-time.Hour))
		res := copyOnce(t, newer, withCRC(t, dst), obj) // source CRC64 learned by a HEAD of the source
		assert.Equal(t, task.StatusVerified, res.Status, "proven present, as a copy would be")
		assert.Equal(t, task.OutcomeIdentical, res.Outcome)
		assert.Equal(t, ReasonIdentical, res.Reason)
		assert.Equal(t, task.MethodCRC64, res.Method)
		assert.Equal(t, crc.Checksum(data), res.CRC64)
	})
	t.Run("same CRC64, always: identical, not rewritten", func(t *testing.T) {
		o := obj
		o.CRC64, o.HasCRC64 = crc.Checksum(data), true
		before, err := dst.Stat(ctx, "k")
		require.NoError(t, err)
		res := copyOnce(t, task.OverwriteAlways, withCRC(t, dst), o)
		assert.Equal(t, task.OutcomeIdentical, res.Outcome)
		assert.Zero(t, res.BytesRead)
		after, err := dst.Stat(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, before.ModTime, after.ModTime, "not rewritten")
	})
	t.Run("same size, newer, CRC64 differs: kept; if-different copies", func(t *testing.T) {
		other := append([]byte{}, data...)
		other[0] ^= 1
		putObj(t, dst, "k", other)
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, newer, withCRC(t, dst), obj)
		assert.Equal(t, task.OutcomeKept, res.Outcome, "the destination is newer: the application's")
		sameBytes(t, other, getObj(t, dst, "k"))
		res = copyOnce(t, task.OverwriteIfDifferent, withCRC(t, dst), obj)
		assert.Equal(t, task.StatusVerified, res.Status, "CRC64s are proof; mtimes only a hint")
		sameBytes(t, data, getObj(t, dst, "k"))
	})
	t.Run("never: an older object is kept", func(t *testing.T) {
		putObj(t, dst, "k", data[:10])
		setMtime("k", obj.ModTime.Add(-time.Hour))
		res := copyOnce(t, task.OverwriteNever, dst, obj)
		assert.Equal(t, task.OutcomeKept, res.Outcome)
		assert.Equal(t, ReasonExists, res.Reason)
		sameBytes(t, data[:10], getObj(t, dst, "k"))
	})
	t.Run("always: a newer object is replaced", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, task.OverwriteAlways, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
		sameBytes(t, data, getObj(t, dst, "k"))
	})
}
