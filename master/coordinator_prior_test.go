package master

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// A copy grant carries the destination ETag of ferry's earlier verified
// copy of each key (PriorDestETag), so the copier can tell its own copy
// from an application's write; a key with no verified copy carries none,
// and an audit grant none at all.
func TestGrantCarriesPriorDestETag(t *testing.T) {
	for _, audit := range []bool{false, true} {
		t.Run(map[bool]string{false: "copy", true: "audit"}[audit], func(t *testing.T) {
			st, pass := newStore(t, "j")
			t1 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
			objs := []task.Object{
				{Key: "carried", Dest: "carried", Size: 1, ModTime: t1, ETag: "b"},
				{Key: "copied", Dest: "copied", Size: 1, ModTime: t1, ETag: "a"},
				{Key: "failed", Dest: "failed", Size: 1, ModTime: t1, ETag: "c"},
				{Key: "new", Dest: "new", Size: 1, ModTime: t1, ETag: "d"},
			}
			require.NoError(t, st.Report("j", pass, []task.Result{
				{Key: "copied", Dest: "copied", Status: task.StatusVerified, Method: task.MethodMD5, Size: 1, ModTime: t1, ETag: "a", DestETag: "dest-a"},
				{Key: "carried", Dest: "carried", Status: task.StatusSkipped, Method: task.MethodManifest, Size: 1, ModTime: t1, ETag: "b", DestETag: "dest-b"},
				{Key: "failed", Dest: "failed", Status: task.StatusFailed, Size: 1, ModTime: t1, ETag: "c", DestETag: "dest-c"},
			}))
			require.NoError(t, st.FinishScan("j", pass))
			_, err := st.FinishPass("j", pass, time.Now())
			require.NoError(t, err)
			p2, err := st.StartPass("j", time.Now())
			require.NoError(t, err)
			// The source changed in place since: other ETags, same times.
			changed := make([]task.Object, len(objs))
			for i, o := range objs {
				o.ETag += "2"
				changed[i] = o
			}
			c, err := NewCoordinator(CoordinatorConfig{Job: "j", Pass: p2.N, LeaseTTL: time.Minute, ShardRetries: 2, Now: time.Now, Audit: audit}, st)
			require.NoError(t, err)
			ids, err := st.AppendShards("j", p2.N, []task.Shard{{Job: "j", Pass: p2.N, Objects: changed}}, nil, tracker.ScanCheckpoint{Stream: "", After: "new", Done: true})
			require.NoError(t, err)
			c.AddShards(ids)
			gs, err := c.Lease(t.Context(), "w", 1)
			require.NoError(t, err)
			require.Len(t, gs, 1)
			got := map[string]string{}
			for _, o := range gs[0].Objects {
				got[o.Key] = o.PriorDestETag
			}
			want := map[string]string{"copied": "dest-a", "carried": "dest-b", "failed": "", "new": ""}
			if audit {
				want = map[string]string{"copied": "", "carried": "", "failed": "", "new": ""}
			}
			assert.Equal(t, want, got)
		})
	}
}
