package tracker

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/task"
)

func TestAppendShardsAtomic(t *testing.T) {
	bad := func(mut func([]task.Shard) []task.Shard) []task.Shard { return mut(shardsOf("a", 100, 3, 4)) }
	tests := []struct {
		name    string
		shards  []task.Shard
		skipped []task.Result
		cp      ScanCheckpoint
		wantErr string
	}{
		{"empty shard last", bad(func(s []task.Shard) []task.Shard { return append(s, task.Shard{}) }),
			nil, ScanCheckpoint{Stream: "a", After: "a/99"}, "no objects"},
		{"unsorted keys in the third shard", bad(func(s []task.Shard) []task.Shard {
			s[2].Objects[1], s[2].Objects[2] = s[2].Objects[2], s[2].Objects[1]
			return s
		}), nil, ScanCheckpoint{Stream: "a", After: "a/99"}, "must be sorted"},
		{"overlapping shards", bad(func(s []task.Shard) []task.Shard { return append(s, s[0]) }),
			nil, ScanCheckpoint{Stream: "a", After: "a/99"}, "must be sorted"},
		{"key at or before the checkpoint", shardsOf("a", 5, 1, 2), nil,
			ScanCheckpoint{Stream: "a", After: "a/99"}, "outside"},
		{"key beyond cp.After", shardsOf("a", 100, 2, 4), nil,
			ScanCheckpoint{Stream: "a", After: "a/00000102"}, "outside"},
		{"checkpoint goes backwards", nil, nil, ScanCheckpoint{Stream: "a", After: "a/00000001"}, "before the previous"},
		{"skipped without status", shardsOf("a", 100, 1, 4), []task.Result{{Key: "a/00000200"}},
			ScanCheckpoint{Stream: "a", After: "a/99"}, "no status"},
		{"skipped outside range", shardsOf("a", 100, 1, 4), []task.Result{result("b/1", task.StatusSkipped, 1)},
			ScanCheckpoint{Stream: "a", After: "a/99"}, "outside"},
		{"wrong pass in shard", bad(func(s []task.Shard) []task.Shard { s[1].Pass = 7; return s }),
			nil, ScanCheckpoint{Stream: "a", After: "a/99"}, "pass 7"},
		{"stream already done", shardsOf("d", 0, 1, 1), nil, ScanCheckpoint{Stream: "done", After: "d/99"}, "already done"},
	}
	s := newJob(t)
	if _, err := s.AppendShards("j", 1, shardsOf("a", 0, 2, 5), nil, ScanCheckpoint{Stream: "a", After: "a/00000009"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendShards("j", 1, nil, nil, ScanCheckpoint{Stream: "done", After: "d/1", Done: true}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, s)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, err := s.AppendShards("j", 1, tc.shards, tc.skipped, tc.cp)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), `job "j" pass 1`) {
				t.Errorf("error does not name job and pass: %v", err)
			}
			if ids != nil {
				t.Errorf("ids = %v on error", ids)
			}
			if !equalMaps(dump(t, s), before) {
				t.Error("a failed AppendShards left partial state")
			}
		})
	}
}

func TestAppendShardsAndCheckpoints(t *testing.T) {
	s := newJob(t)
	// Two streams interleaved, as concurrent listers would write them.
	steps := []struct {
		stream      string
		first, n    int
		skipFirst   int // one skipped object key index, -1 none
		done        bool
		wantIDs     []uint64
		wantShards  int64
		wantScanned int64
	}{
		{"a", 0, 2, -1, false, []uint64{1, 2}, 2, 20},
		{"b", 0, 1, 10, false, []uint64{3}, 3, 31},
		{"a", 20, 3, 50, false, []uint64{4, 5, 6}, 6, 62},
		{"b", 11, 0, 12, true, []uint64{}, 6, 63},
	}
	for i, st := range steps {
		shards := shardsOf(st.stream, st.first, st.n, 10)
		after := fmt.Sprintf("%s/%08d", st.stream, st.first+st.n*10-1)
		var skipped []task.Result
		if st.skipFirst >= 0 {
			k := fmt.Sprintf("%s/%08d", st.stream, st.skipFirst)
			skipped = []task.Result{result(k, task.StatusSkipped, 1000)}
			after = max(after, k)
		}
		ids, err := s.AppendShards("j", 1, shards, skipped, ScanCheckpoint{Stream: st.stream, After: after, Done: st.done})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(ids) != len(st.wantIDs) || (len(ids) > 0 && !reflect.DeepEqual(ids, st.wantIDs)) {
			t.Errorf("step %d: ids %v, want %v", i, ids, st.wantIDs)
		}
		for j, sh := range shards {
			if sh.ID != ids[j] || sh.Job != "j" || sh.Pass != 1 {
				t.Errorf("step %d: caller's shard %d = %s/%d/%d", i, j, sh.Job, sh.Pass, sh.ID)
			}
		}
		p := mustPass(t, s, 1)
		if p.Shards != st.wantShards || p.Scanned != st.wantScanned {
			t.Errorf("step %d: shards %d scanned %d, want %d %d", i, p.Shards, p.Scanned, st.wantShards, st.wantScanned)
		}
	}
	cps, err := s.ScanCheckpoints("j", 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ScanCheckpoint{
		"a": {Stream: "a", After: "a/00000050"},
		"b": {Stream: "b", After: "b/00000012", Done: true},
	}
	if !reflect.DeepEqual(cps, want) {
		t.Errorf("checkpoints %+v, want %+v", cps, want)
	}
	// Stored shards round-trip exactly, with their ids.
	rec, ok, err := s.GetShard("j", 1, 5)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	wantObjs := objs("a", 30, 10)
	if rec.ID != 5 || rec.State != ShardPending || !sameObjects(rec.Objects, wantObjs) {
		t.Errorf("shard 5 = %+v", rec)
	}
	p := mustPass(t, s, 1)
	if p.Skipped != 3 || p.SkippedBytes != 3000 || p.Methods[task.MethodManifest] != 3 {
		t.Errorf("skipped counters %+v", p.Counters)
	}
	if e, err := s.Lookup("j", []string{"b/00000010", "b/00000000"}); err != nil || len(e) != 1 || e["b/00000010"].Status != task.StatusSkipped {
		t.Errorf("Lookup = %+v, %v", e, err)
	}
	// Other passes have their own ids and checkpoints.
	if cps, _ := s.ScanCheckpoints("j", 2); len(cps) != 0 {
		t.Errorf("pass 2 checkpoints %v", cps)
	}
}

func sameObjects(a, b []task.Object) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Key != y.Key || x.Dest != y.Dest || x.Size != y.Size || !x.ModTime.Equal(y.ModTime) ||
			x.ETag != y.ETag || x.CRC64 != y.CRC64 || x.HasCRC64 != y.HasCRC64 {
			return false
		}
	}
	return true
}

func TestShardsIterationAndState(t *testing.T) {
	s := newJob(t)
	const n = batchRecords + 300 // more than one read batch
	if _, err := s.AppendShards("j", 1, shardsOf("a", 0, n, 2), nil, ScanCheckpoint{Stream: "a", After: "a/99999999"}); err != nil {
		t.Fatal(err)
	}
	// Table of state changes, applied in order, with the counters after.
	changes := []struct {
		id          uint64
		state       ShardState
		wantDone    int64
		wantFailed  int64
		description string
	}{
		{1, ShardDone, 1, 0, "ack"},
		{1, ShardDone, 1, 0, "ack again"},
		{2, ShardFailed, 1, 1, "nack"},
		{2, ShardFailed, 1, 1, "nack again, new error text"},
		{1, ShardPending, 0, 1, "done back to pending"},
		{2, ShardDone, 1, 0, "failed to done"},
		{1, ShardDone, 2, 0, "ack after re-lease"},
		{n, ShardFailed, 2, 1, "last shard"},
	}
	for i, c := range changes {
		if err := s.SetShardState("j", 1, c.id, c.state, i, c.description); err != nil {
			t.Fatal(err)
		}
		p := mustPass(t, s, 1)
		if p.ShardsDone != c.wantDone || p.ShardsFailed != c.wantFailed {
			t.Errorf("%s: done %d failed %d, want %d %d", c.description, p.ShardsDone, p.ShardsFailed, c.wantDone, c.wantFailed)
		}
	}
	if err := s.SetShardState("j", 1, n+1, ShardDone, 1, ""); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("shard %d", n+1)) {
		t.Errorf("missing shard: %v", err)
	}
	if err := s.SetShardState("j", 1, 1, ShardAny, 1, ""); err == nil {
		t.Error("ShardAny accepted as a state")
	}
	counts := map[ShardState]int{}
	var last uint64
	for _, st := range []ShardState{ShardPending, ShardDone, ShardFailed, ShardAny} {
		last = 0
		err := s.Shards("j", 1, st, func(r ShardRecord) error {
			if r.ID <= last || (st != ShardAny && r.State != st) || len(r.Objects) != 2 {
				t.Fatalf("Shards(%v) gave %d after %d, state %v", st, r.ID, last, r.State)
			}
			last = r.ID
			counts[st]++
			// Callbacks run outside transactions: writing is fine, also
			// on either side of a read batch's end. (Not on every record:
			// each write is a commit, and 2,600 of them took two minutes.)
			if r.ID == 1 || r.ID == batchRecords || r.ID == batchRecords+1 {
				return s.SetShardState("j", 1, r.ID, r.State, r.Attempts, r.LastError)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[ShardState]int{ShardPending: n - 3, ShardDone: 2, ShardFailed: 1, ShardAny: n}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
}
