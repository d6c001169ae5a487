package tracker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

// The overwrite policy's outcomes are counted apart (identical within
// Verified, kept within Skipped), move when a later result replaces an
// entry, and the manifest keeps each kept object with its outcome and
// reason.
func TestOutcomeCounters(t *testing.T) {
	s := newJob(t)
	_, err := s.AppendShards("j", 1, shardsOf("a", 0, 1, 3), nil, ScanCheckpoint{Stream: "a", After: "a/00000002"})
	require.NoError(t, err)
	skip := func(k string, o task.Outcome, size int64) task.Result {
		r := result(k, task.StatusSkipped, size)
		r.Method, r.Outcome, r.Reason = "", o, "why "+string(o)
		return r
	}
	identical := result("a/00000000", task.StatusVerified, 10)
	identical.Outcome, identical.BytesRead, identical.BytesSent = task.OutcomeIdentical, 0, 0
	require.NoError(t, s.Report("j", 1, []task.Result{
		identical,
		skip("a/00000001", task.OutcomeKept, 20),
		result("a/00000002", task.StatusVerified, 40),
	}))
	c := mustPass(t, s, 1).Counters
	assert.Equal(t, [8]int64{2, 50, 1, 10, 1, 20, 1, 20},
		[8]int64{c.Verified, c.VerifiedBytes, c.Identical, c.IdenticalBytes, c.Skipped, c.SkippedBytes, c.Kept, c.KeptBytes})

	// The kept object copied after all (a later pass's retry, say): its
	// kept count moves to verified.
	require.NoError(t, s.Report("j", 1, []task.Result{result("a/00000001", task.StatusVerified, 20)}))
	c = mustPass(t, s, 1).Counters
	assert.Equal(t, [4]int64{0, 0, 3, 70}, [4]int64{c.Kept, c.KeptBytes, c.Verified, c.VerifiedBytes})
	assert.Equal(t, int64(1), c.Identical)

	var kept []Entry
	require.NoError(t, s.Report("j", 1, []task.Result{skip("a/00000002", task.OutcomeKept, 40)}))
	require.NoError(t, s.Manifest("j", task.StatusSkipped, "", func(e Entry) error {
		if e.Outcome == task.OutcomeKept {
			kept = append(kept, e)
		}
		return nil
	}))
	require.Len(t, kept, 1, "the latest result of each key is listed: a/00000001 was copied since")
	assert.Equal(t, "a/00000002", kept[0].Key)
	assert.Equal(t, "why kept", kept[0].Reason)
}
