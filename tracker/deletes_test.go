package tracker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

// Delete-propagation records are counted by status, a would-delete turned
// into a deleted moves its count, and re-reporting the same record
// changes nothing; a pass problem fails the pass whatever the counters.
func TestDeleteRecordsAndPassProblem(t *testing.T) {
	for _, tc := range []struct {
		name    string
		problem string
		state   JobState
	}{
		{"clean", "", JobSucceeded},
		{"guard stopped it", "deletes stopped: 7 > deleteMaxCount=5", JobFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newJob(t)
			del := func(key string, st task.Status) task.Result {
				return task.Result{Key: key, Dest: "dst/" + key, Status: st, Size: 3, Reason: "no source object"}
			}
			require.NoError(t, s.Report("j", 1, []task.Result{del("a", task.StatusWouldDelete), del("b", task.StatusWouldDelete)}))
			require.NoError(t, s.Report("j", 1, []task.Result{del("a", task.StatusDeleted)}))
			require.NoError(t, s.Report("j", 1, []task.Result{del("a", task.StatusDeleted)}), "re-reported")
			p, _, err := s.GetPass("j", 1)
			require.NoError(t, err)
			assert.Equal(t, int64(1), p.Deleted)
			assert.Equal(t, int64(1), p.WouldDelete)
			assert.Zero(t, p.Verified+p.Skipped+p.Failed, "delete records are not copy outcomes")

			if tc.problem != "" {
				require.NoError(t, s.SetPassProblem("j", 1, tc.problem))
			}
			require.NoError(t, s.FinishScan("j", 1))
			p, err = s.FinishPass("j", 1, t0.Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, tc.problem, p.Problem)
			j, _, err := s.GetJob("j")
			require.NoError(t, err)
			assert.Equal(t, tc.state, j.State)
			assert.Equal(t, tc.state == JobSucceeded, !j.Checkpoint.IsZero(), "the checkpoint moves only after a clean pass")
		})
	}
	assert.ErrorIs(t, newJob(t).SetPassProblem("j", 9, "x"), ErrNotFound)
}
