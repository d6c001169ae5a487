package cutover

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

func entry(key string, pass uint64, st task.Status, outcome task.Outcome, method task.Method) tracker.Entry {
	return tracker.Entry{Pass: pass, Result: task.Result{Key: key, Dest: key, Status: st, Outcome: outcome, Method: method, Size: 1}}
}

func TestCutoverReportAccountsForEveryEntry(t *testing.T) {
	c := &State{Job: "j", SwitchPass: 2}
	entries := []tracker.Entry{
		entry("copied-now", 2, task.StatusVerified, "", task.MethodCRC64),
		entry("identical", 2, task.StatusVerified, task.OutcomeIdentical, task.MethodCRC64),
		entry("kept", 2, task.StatusSkipped, task.OutcomeKept, ""),
		entry("unchanged", 2, task.StatusSkipped, "", task.MethodManifest),
		entry("failed", 2, task.StatusFailed, "", ""),
		entry("odd-skip", 2, task.StatusSkipped, "", ""),
		entry("gone", 1, task.StatusVerified, "", task.MethodCRC64),
		entry("dest-record", 2, task.StatusWouldDelete, "", ""),
	}
	b := NewBuilder(c, 0)
	for _, e := range entries {
		require.NoError(t, b.Add(e))
	}
	r := b.Finish(tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 6}}, true)
	assert.Equal(t, int64(2), r.Copied)
	assert.Equal(t, int64(1), r.CopiedInPass)
	assert.Equal(t, int64(1), r.Identical)
	assert.Equal(t, int64(1), r.KeptCount)
	assert.Equal(t, int64(1), r.FailedCount)
	assert.Equal(t, int64(1), r.Unaccounted, "a skip that proves nothing is not accounted for")
	assert.Equal(t, int64(1), r.DeletedAtSourceCount)
	require.Len(t, r.Kept, 1)
	assert.Equal(t, "kept", r.Kept[0].Key)
	require.Len(t, r.DeletedAtSource, 1)
	assert.Equal(t, "gone", r.DeletedAtSource[0].Key)
	assert.False(t, r.OK)
}

func TestCutoverReportOKAndIncomplete(t *testing.T) {
	c := &State{Job: "j", SwitchPass: 2}
	tests := []struct {
		name    string
		pass    tracker.Pass
		found   bool
		limit   int
		wantOK  bool
		wantUn  int64
		wantCut bool
	}{
		{name: "finished, all there", pass: tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 3}},
			found: true, wantOK: true},
		{name: "finished, a result missing", pass: tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 5}},
			found: true, wantUn: 2},
		{name: "not finished", pass: tracker.Pass{N: 2, Counters: tracker.Counters{Scanned: 3}}, found: true, wantUn: 1},
		{name: "no such pass", found: false, wantUn: 1},
		{name: "list cut at the limit", pass: tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 3}},
			found: true, limit: 1, wantOK: true, wantCut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(c, tt.limit)
			for _, k := range []string{"a", "b", "c"} {
				require.NoError(t, b.Add(entry(k, 2, task.StatusSkipped, task.OutcomeKept, "")))
			}
			r := b.Finish(tt.pass, tt.found)
			assert.Equal(t, tt.wantOK, r.OK)
			assert.Equal(t, tt.wantUn, r.Unaccounted)
			assert.Equal(t, int64(3), r.KeptCount, "counts are complete whatever the limit")
			assert.Equal(t, tt.wantCut, r.Truncated)
		})
	}
}

// Objects deleted at the source are listed only while the destination
// still has them; a failed lookup fails the report rather than guessing.
func TestCutoverReportLooksUpDeletedAtTheDestination(t *testing.T) {
	c := &State{Job: "j", SwitchPass: 2}
	b := NewBuilder(c, 0)
	b.Present = func(key string) (bool, error) {
		switch key {
		case "still":
			return true, nil
		case "gone":
			return false, nil
		}
		return false, errors.New("denied")
	}
	require.NoError(t, b.Add(entry("still", 1, task.StatusVerified, "", task.MethodCRC64)))
	require.NoError(t, b.Add(entry("gone", 1, task.StatusVerified, "", task.MethodCRC64)))
	require.NoError(t, b.Add(entry("here-now", 2, task.StatusVerified, "", task.MethodCRC64)), "entries of the pass are not looked up")
	err := b.Add(entry("unreadable", 1, task.StatusVerified, "", task.MethodCRC64))
	assert.ErrorContains(t, err, `destination "unreadable": denied`)
	r := b.Finish(tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 1}}, true)
	assert.Equal(t, int64(1), r.DeletedAtSourceCount)
	assert.Equal(t, int64(1), r.GoneAtBothEnds)
	require.Len(t, r.DeletedAtSource, 1)
	assert.Equal(t, "still", r.DeletedAtSource[0].Key)
}

func TestPresentHeadsTheDestination(t *testing.T) {
	dst, err := local.New(t.TempDir(), local.Options{})
	require.NoError(t, err)
	_, err = dst.Put(t.Context(), "there", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
	require.NoError(t, err)
	present := Present(t.Context(), dst)
	ok, err := present("there")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = present("gone")
	require.NoError(t, err)
	assert.False(t, ok, "not found is an answer, not an error")
}

// A pass known to run still (on a master) is said to, not to have
// stopped: the operator waits rather than switches again.
func TestCutoverReportOfARunningPass(t *testing.T) {
	for _, running := range []bool{false, true} {
		b := NewBuilder(&State{Job: "j", SwitchPass: 2}, 0)
		b.Running = running
		r := b.Finish(tracker.Pass{N: 2, Counters: tracker.Counters{Scanned: 3}}, true)
		assert.Equal(t, int64(3), r.Unaccounted)
		assert.False(t, r.OK)
		want := "pass 2 did not finish: run `ferry cutover switch j` again"
		if running {
			want = "pass 2 still running: run finish again when it has ended"
		}
		require.Len(t, r.Other, 1)
		assert.Equal(t, want, r.Other[0].Reason)
	}
}
