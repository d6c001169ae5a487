package master

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// snapshotEnv is a local -> local snapshot job: a source of n one-byte
// files f000.., snapshots under <dst>/{time}/ taken every hour.
type snapshotEnv struct {
	h        *harness
	job      string
	src, dst storage.Backend
}

func newSnapshotEnv(t *testing.T, n int, extra ...string) *snapshotEnv {
	t.Helper()
	srcDir, dstDir := t.TempDir(), t.TempDir()
	src, err := local.New(srcDir, local.Options{})
	require.NoError(t, err)
	dst, err := local.New(dstDir, local.Options{})
	require.NoError(t, err)
	e := &snapshotEnv{h: newHarness(t), src: src, dst: dst}
	for i := range n {
		e.put(fmt.Sprintf("f%03d", i), "v1")
	}
	lines := append([]string{"jobName=snap", "srcType=local", "srcPrefix=" + srcDir, "destType=local",
		"destPrefix=" + filepath.Join(dstDir, "{time:2006-01-02T15-04}") + "/", "backupKind=snapshot",
		"schedule=0 * * * *", "taskObjectCountLimit=5"}, extra...)
	e.job = e.h.submit(strings.Join(lines, "\n") + "\n")
	return e
}

func (e *snapshotEnv) put(key, body string) {
	e.h.t.Helper()
	_, err := e.src.Put(context.Background(), key, strings.NewReader(body), storage.ObjectInfo{Size: int64(len(body))})
	require.NoError(e.h.t, err)
}

// work plays a worker that copies for real, as the copier would: a
// server-side copy of CopyFrom when granted one, else the source's bytes.
// It returns the grants' objects.
func (e *snapshotEnv) work(fail ...string) []task.Object {
	t := e.h.t
	t.Helper()
	ctx := context.Background()
	e.h.register("w")
	var all []task.Object
	for range 100 {
		gs := e.h.lease("w", 4)
		if len(gs) == 0 {
			return all
		}
		for _, g := range gs {
			var rs []task.Result
			for _, o := range g.Objects {
				all = append(all, o)
				r := task.Result{Key: o.Key, Dest: o.Dest, Size: o.Size, ModTime: o.ModTime, Status: task.StatusVerified, Method: task.MethodSize}
				if contains(fail, o.Key) {
					r.Status, r.Method, r.Reason, r.Class = task.StatusFailed, "", "boom", "permanent"
					rs = append(rs, r)
					continue
				}
				var data []byte
				if o.CopyFrom != "" {
					_, err := e.dst.(storage.ServerCopier).Copy(ctx, o.CopyFrom, o.Dest, storage.ObjectInfo{})
					require.NoError(t, err)
					r.Outcome = task.OutcomeServerCopy
					data = e.read(e.dst, o.Dest)
				} else {
					data = e.read(e.src, o.Key)
					_, err := e.dst.Put(ctx, o.Dest, bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
					require.NoError(t, err)
					r.BytesRead = int64(len(data))
				}
				r.CRC64, r.HasCRC64 = crc.Checksum(data), true
				rs = append(rs, r)
			}
			require.NoError(t, e.h.m.Report(ctx, "w", g.Ref(), rs))
			_, err := e.h.m.Ack(ctx, "w", g.Ref())
			require.NoError(t, err)
		}
	}
	t.Fatal("work never ran out")
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *snapshotEnv) read(b storage.Backend, key string) []byte {
	e.h.t.Helper()
	rc, _, err := b.Open(context.Background(), key, 0, -1)
	require.NoError(e.h.t, err)
	defer rc.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(rc)
	require.NoError(e.h.t, err)
	return buf.Bytes()
}

// passEnds waits for pass n to end and returns the job's snapshots.
func (e *snapshotEnv) passEnds(n uint64) []SnapshotInfo {
	e.h.t.Helper()
	require.Eventually(e.h.t, func() bool {
		s := e.h.stat(e.job)
		return s.Pass == n && s.State != string(tracker.JobRunning)
	}, 10*time.Second, 5*time.Millisecond, "pass %d ends", n)
	ss, err := e.h.m.Snapshots(e.job)
	require.NoError(e.h.t, err)
	return ss
}

// nextPass moves the clock to the next scheduled run and waits for its
// scan.
func (e *snapshotEnv) nextPass(n uint64) {
	e.h.t.Helper()
	e.h.clock.Add(time.Hour)
	require.Eventually(e.h.t, func() bool {
		s := e.h.stat(e.job)
		return s.Pass == n && s.ScanFinished
	}, 10*time.Second, 5*time.Millisecond, "pass %d scanned", n)
}

// manifest reads a snapshot's manifest object from the destination.
func (e *snapshotEnv) manifest(prefix string) (map[string]snapshot.Entry, error) {
	got := map[string]snapshot.Entry{}
	_, _, err := snapshot.Load(context.Background(), e.dst, prefix, func(en snapshot.Entry) error {
		got[en.Key] = en
		return nil
	})
	return got, err
}

// TestManagerSnapshots: each pass writes a complete snapshot under its
// own dated prefix, copies what the base snapshot already holds inside
// the destination, ends with a manifest that lists exactly the source of
// that pass, and retention keeps the newest two.
func TestManagerSnapshots(t *testing.T) {
	e := newSnapshotEnv(t, 6, "keepLast=2")

	objs := e.work()
	require.Len(t, objs, 6)
	for _, o := range objs {
		assert.Empty(t, o.CopyFrom, "the first snapshot has no base")
		assert.True(t, strings.HasPrefix(o.Dest, "2026-01-01T00-00/"), o.Dest)
	}
	ss := e.passEnds(1)
	require.Len(t, ss, 1)
	first := ss[0]
	assert.Equal(t, SnapshotComplete, first.State)
	assert.Equal(t, int64(6), first.Objects)
	man, err := e.manifest(first.Prefix)
	require.NoError(t, err)
	assert.Len(t, man, 6)

	// Pass 2: one object changed, one deleted, one added.
	e.put("f001", "v2")
	require.NoError(t, e.src.Delete(context.Background(), "f002"))
	e.put("g000", "new")
	e.nextPass(2)
	objs = e.work()
	copied := map[string]string{}
	for _, o := range objs {
		copied[o.Key] = o.CopyFrom
	}
	assert.Equal(t, map[string]string{"f000": "2026-01-01T00-00/f000", "f001": "", "f003": "2026-01-01T00-00/f003",
		"f004": "2026-01-01T00-00/f004", "f005": "2026-01-01T00-00/f005", "g000": ""}, copied,
		"unchanged objects are copied from the base; changed and new ones stream")
	ss = e.passEnds(2)
	require.Len(t, ss, 2)
	second := ss[1]
	assert.Equal(t, SnapshotComplete, second.State)
	assert.Equal(t, uint64(1), second.Base)
	assert.Equal(t, first.Prefix, second.BasePrefix)
	assert.Equal(t, int64(4), second.ServerCopied)
	assert.Equal(t, int64(len("v2")+len("new")), second.BytesRead, "only the changed and new objects are read")
	man, err = e.manifest(second.Prefix)
	require.NoError(t, err)
	keys := make([]string, 0, len(man))
	for k := range man {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"f000", "f001", "f003", "f004", "f005", "g000"}, keys)
	assert.Equal(t, crc.Checksum([]byte("v2")), man["f001"].CRC64)
	assert.Equal(t, crc.Checksum([]byte("v1")), man["f000"].CRC64, "a server-side copy carries the base's CRC64")

	// Pass 3: nothing changed; keepLast=2 removes the first snapshot.
	e.nextPass(3)
	objs = e.work()
	for _, o := range objs {
		assert.NotEmpty(t, o.CopyFrom, "%s: unchanged", o.Key)
	}
	ss = e.passEnds(3)
	require.Len(t, ss, 3)
	assert.Equal(t, SnapshotRemoved, ss[0].State)
	assert.Contains(t, ss[0].Why, "keep-last 2")
	assert.Equal(t, SnapshotComplete, ss[1].State)
	assert.Equal(t, SnapshotComplete, ss[2].State)
	assert.Equal(t, int64(0), ss[2].BytesRead)
	_, err = e.manifest(first.Prefix)
	require.ErrorIs(t, err, snapshot.ErrIncomplete, "the removed snapshot's manifest is gone")
	assert.Empty(t, destKeys(t, e.dst, first.Prefix), "and its objects")
	assert.Len(t, destKeys(t, e.dst, ss[2].Prefix), 6)
}

// TestManagerIncompleteSnapshot: a pass with a failed object writes no
// manifest and is never a base; the next snapshot still copies the
// objects it verified inside the destination (not from the source), and
// removes it once done.
func TestManagerIncompleteSnapshot(t *testing.T) {
	e := newSnapshotEnv(t, 4)
	e.work()
	first := e.passEnds(1)[0]

	e.put("f003", "v2")
	e.nextPass(2)
	e.work("f002")
	ss := e.passEnds(2)
	broken := ss[1]
	assert.Equal(t, SnapshotIncomplete, broken.State)
	_, err := e.manifest(broken.Prefix)
	require.ErrorIs(t, err, snapshot.ErrIncomplete)
	assert.NotEmpty(t, destKeys(t, e.dst, broken.Prefix), "its objects are there")

	e.nextPass(3)
	copied := map[string]string{}
	for _, o := range e.work() {
		copied[o.Key] = o.CopyFrom
	}
	assert.Equal(t, map[string]string{
		"f000": broken.Prefix + "f000", "f001": broken.Prefix + "f001", // verified in the incomplete one
		"f002": "",                     // failed there: its last copy is in no snapshot the pass may copy from
		"f003": broken.Prefix + "f003", // changed before pass 2, copied there
	}, copied)
	ss = e.passEnds(3)
	assert.Equal(t, first.Pass, ss[2].Base, "the base is the last complete snapshot")
	assert.Equal(t, first.Prefix, ss[2].BasePrefix)
	assert.Equal(t, SnapshotComplete, ss[2].State)
	assert.Equal(t, SnapshotRemoved, ss[1].State)
	assert.Contains(t, ss[1].Why, "incomplete")
	assert.Empty(t, destKeys(t, e.dst, broken.Prefix))
	assert.Equal(t, SnapshotComplete, ss[0].State, "retention is off: the complete one stays")
}

// TestManagerRetentionDryRun: a dry run records what would go and
// removes nothing.
func TestManagerRetentionDryRun(t *testing.T) {
	e := newSnapshotEnv(t, 2, "keepLast=1", "retentionDryRun=true")
	e.work()
	e.passEnds(1)
	e.nextPass(2)
	e.work()
	ss := e.passEnds(2)
	assert.Equal(t, SnapshotComplete, ss[0].State)
	assert.Contains(t, ss[0].Why, "would be removed (retentionDryRun)")
	_, err := e.manifest(ss[0].Prefix)
	require.NoError(t, err, "nothing removed")
	_, err = os.Stat(t.TempDir())
	require.NoError(t, err)
}

// TestManagerSnapshotResumedAfterRestart: a master stopped in the middle
// of a snapshot resumes the same snapshot (same prefix, same base) and
// completes it; until then it has no manifest.
func TestManagerSnapshotResumedAfterRestart(t *testing.T) {
	e := newSnapshotEnv(t, 12)
	e.h.register("w")
	g := e.h.lease("w", 1)
	require.Len(t, g, 1)
	e.h.finish("w", g[0])
	before, err := e.h.m.Snapshots(e.job)
	require.NoError(t, err)
	require.Len(t, before, 1)
	assert.Equal(t, SnapshotRunning, before[0].State)
	_, err = e.manifest(before[0].Prefix)
	require.ErrorIs(t, err, snapshot.ErrIncomplete, "no manifest while the snapshot runs")

	e.h.clock.Add(5 * time.Minute) // the restarted master's clock says another minute
	e.h.restart()
	e.h.waitScanned(e.job)
	e.work()
	ss := e.passEnds(1)
	require.Len(t, ss, 1)
	assert.Equal(t, before[0].Prefix, ss[0].Prefix, "the same snapshot is completed")
	assert.Equal(t, SnapshotComplete, ss[0].State)
	assert.Equal(t, int64(12), ss[0].Objects)
	man, err := e.manifest(ss[0].Prefix)
	require.NoError(t, err)
	assert.Len(t, man, 12)
}
