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

func TestSkipRules(t *testing.T) {
	ctx := t.Context()
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(5000, 3)
	putObj(t, src, "k", data)
	obj := object(t, src, "k", "k")
	setMtime := func(key string, m time.Time) {
		require.NoError(t, os.Chtimes(filepath.Join(dst.Root(), key), m, m))
	}
	copyOnce := func(t *testing.T, d storage.Backend, obj task.Object) task.Result {
		var s storage.Backend = src
		if _, ok := d.(*hooked); ok {
			s = withCRC(t, src) // the OSS-like case: both sides report CRC64s
		}
		c := newCopier(t, Options{Src: s, Dst: d, Settings: task.CopySettings{SkipExisting: true}})
		res, err := c.Copy(ctx, "job", obj)
		require.NoError(t, err)
		return res
	}

	t.Run("destination missing: copied", func(t *testing.T) {
		res := copyOnce(t, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
	})
	t.Run("same size, newer: skipped", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, dst, obj)
		assert.Equal(t, task.StatusSkipped, res.Status)
		assert.Equal(t, ReasonNewer, res.Reason)
		assert.Equal(t, task.MethodSize, res.Method)
		assert.Zero(t, res.BytesRead)
	})
	t.Run("same size, as new: skipped", func(t *testing.T) {
		setMtime("k", obj.ModTime)
		res := copyOnce(t, dst, obj)
		assert.Equal(t, task.StatusSkipped, res.Status)
		assert.Equal(t, ReasonNewer, res.Reason)
	})
	t.Run("same size, older: copied", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(-time.Hour))
		res := copyOnce(t, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
	})
	t.Run("size differs, newer: copied", func(t *testing.T) {
		putObj(t, dst, "k", data[:100])
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, dst, obj)
		assert.Equal(t, task.StatusVerified, res.Status)
		sameBytes(t, data, getObj(t, dst, "k"))
	})
	t.Run("same CRC64, older: skipped by CRC64", func(t *testing.T) {
		setMtime("k", obj.ModTime.Add(-time.Hour))
		res := copyOnce(t, withCRC(t, dst), obj) // source CRC64 learned by a HEAD of the source
		assert.Equal(t, task.StatusSkipped, res.Status)
		assert.Equal(t, ReasonSameCRC64, res.Reason)
		assert.Equal(t, task.MethodCRC64, res.Method)
		assert.Equal(t, crc.Checksum(data), res.CRC64)
	})
	t.Run("same CRC64 from the listing: skipped by CRC64", func(t *testing.T) {
		o := obj
		o.CRC64, o.HasCRC64 = crc.Checksum(data), true
		res := copyOnce(t, withCRC(t, dst), o)
		assert.Equal(t, ReasonSameCRC64, res.Reason)
	})
	t.Run("same size, newer, but CRC64 differs: copied", func(t *testing.T) {
		other := append([]byte{}, data...)
		other[0] ^= 1
		putObj(t, dst, "k", other)
		setMtime("k", obj.ModTime.Add(time.Hour))
		res := copyOnce(t, withCRC(t, dst), obj)
		assert.Equal(t, task.StatusVerified, res.Status, "CRC64s are proof; mtimes only a hint")
		sameBytes(t, data, getObj(t, dst, "k"))
	})
}
