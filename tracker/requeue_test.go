package tracker

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

func TestRequeueFailed(t *testing.T) {
	s := newJob(t)
	if n, err := s.RequeueFailed("j"); n != 0 || err != nil {
		t.Fatalf("RequeueFailed on a clean pass = %d, %v", n, err)
	}
	// Three shards of four: a/0..3, a/4..7, a/8..11.
	if _, err := s.AppendShards("j", 1, shardsOf("a", 0, 3, 4), nil, ScanCheckpoint{Stream: "a", After: "a/00000011", Done: true}); err != nil {
		t.Fatal(err)
	}
	var all []task.Object // the same objects, as stored
	for _, sh := range shardsOf("a", 0, 3, 4) {
		all = append(all, sh.Objects...)
	}
	rep := func(i int, st task.Status) task.Result {
		o := all[i]
		r := result(o.Key, st, o.Size)
		r.Dest, r.ModTime, r.ETag, r.CRC64, r.HasCRC64 = o.Dest, o.ModTime, o.ETag, o.CRC64, o.HasCRC64
		return r
	}
	V, F := task.StatusVerified, task.StatusFailed
	steps := []error{
		s.Report("j", 1, []task.Result{rep(0, V), rep(1, F), rep(2, F), rep(3, V), rep(4, V)}),
		s.Report("j", 1, []task.Result{rep(8, V), rep(9, V), rep(10, V), rep(11, V)}),
		s.SetShardState("j", 1, 1, ShardDone, 1, ""),
		s.SetShardState("j", 1, 2, ShardFailed, 3, "worker lost"), // a/5..7 never reported
		s.SetShardState("j", 1, 3, ShardDone, 1, ""),
		s.FinishScan("j", 1),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("setup step %d: %v", i, err)
		}
	}
	if _, err := s.FinishPass("j", 1, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if j, _, _ := s.GetJob("j"); j.State != JobFailed || !j.Checkpoint.IsZero() {
		t.Fatalf("job after failed pass %+v", j)
	}

	n, err := s.RequeueFailed("j")
	if err != nil || n != 5 {
		t.Fatalf("RequeueFailed = %d, %v; want 5", n, err)
	}
	p := mustPass(t, s, 1)
	if p.Failed != 0 || p.FailedBytes != 0 || p.Shards != 4 || p.ShardsDone != 3 || p.ShardsFailed != 0 ||
		!p.Finished.IsZero() || p.Verified != 7 || p.Scanned != 12 {
		t.Errorf("pass after requeue %+v", p)
	}
	if j, _, _ := s.GetJob("j"); j.State != JobRunning {
		t.Errorf("job state %v after requeue", j.State)
	}
	old, _, _ := s.GetShard("j", 1, 2)
	if old.State != ShardDone || !strings.Contains(old.LastError, "requeued: worker lost") {
		t.Errorf("failed shard after requeue %+v", old)
	}
	sh, ok, err := s.GetShard("j", 1, 4)
	if err != nil || !ok || sh.State != ShardPending {
		t.Fatalf("new shard %+v %v %v", sh, ok, err)
	}
	var want []task.Object
	for _, i := range []int{1, 2, 5, 6, 7} {
		want = append(want, all[i])
	}
	if !sameObjects(sh.Objects, want) {
		t.Errorf("requeued objects\n got %+v\nwant %+v", sh.Objects, want)
	}
	if m, _ := s.Lookup("j", []string{"a/00000001"}); m["a/00000001"].Status != task.StatusUnknown || m["a/00000001"].Reason != "boom" {
		t.Errorf("requeued entry %+v", m["a/00000001"])
	}
	checkFailedIndex(t, s)

	// Nothing left to requeue: a second call changes nothing.
	before := dump(t, s)
	if n, err := s.RequeueFailed("j"); n != 0 || err != nil || !equalMaps(before, dump(t, s)) {
		t.Errorf("second RequeueFailed = %d, %v (changed=%v)", n, err, !equalMaps(before, dump(t, s)))
	}

	// The retry succeeds: the pass finishes clean and the checkpoint moves.
	var rs []task.Result
	for _, i := range []int{1, 2, 5, 6, 7} {
		rs = append(rs, rep(i, V))
	}
	if err := s.Report("j", 1, rs); err != nil {
		t.Fatal(err)
	}
	if err := s.SetShardState("j", 1, 4, ShardDone, 1, ""); err != nil {
		t.Fatal(err)
	}
	if p, err = s.FinishPass("j", 1, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantC := Counters{Scanned: 12, ScannedBytes: p.ScannedBytes, Verified: 12, VerifiedBytes: p.ScannedBytes,
		BytesRead: p.BytesRead, BytesSent: p.BytesSent, Shards: 4, ShardsDone: 4,
		Methods: map[task.Method]int64{task.MethodCRC64: 12}}
	if !reflect.DeepEqual(p.Counters, wantC) {
		t.Errorf("final counters\n got %+v\nwant %+v", p.Counters, wantC)
	}
	if j, _, _ := s.GetJob("j"); j.State != JobSucceeded || !j.Checkpoint.Equal(t0) {
		t.Errorf("job after retried pass %+v", j)
	}
}
