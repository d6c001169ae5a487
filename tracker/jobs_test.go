package tracker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

func TestJobPassLifecycle(t *testing.T) {
	s := openTest(t, t.TempDir())
	t1 := t0.Add(24 * time.Hour)
	for _, name := range []string{"zeta", "j"} {
		if err := s.PutJob(Job{Name: name, Config: "cfg " + name, Source: "src", Dest: "dst", State: JobRunning}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.ListJobs()
	if err != nil || len(jobs) != 2 || jobs[0].Name != "j" || jobs[1].Name != "zeta" {
		t.Fatalf("ListJobs = %+v, %v", jobs, err)
	}
	if jobs[0].Config != "cfg j" || jobs[0].Created.IsZero() || jobs[0].Pass != 0 {
		t.Errorf("new job = %+v", jobs[0])
	}

	// step is one lifecycle call and what must hold after it.
	steps := []struct {
		name    string
		do      func() error
		wantErr string
		check   func(j Job)
	}{
		{"start pass 1", func() error { _, err := s.StartPass("j", t0); return err }, "",
			func(j Job) { eq(t, "pass", j.Pass, uint64(1)); eq(t, "state", j.State, JobRunning) }},
		{"no second pass while running", func() error { _, err := s.StartPass("j", t1); return err }, "unfinished", nil},
		{"finish before scan done", func() error { _, err := s.FinishPass("j", 1, t1); return err }, "scan not finished", nil},
		{"append", func() error {
			_, err := s.AppendShards("j", 1, shardsOf("a", 0, 2, 5), nil, ScanCheckpoint{Stream: "a", After: "a/00000009", Done: true})
			return err
		}, "", nil},
		{"finish scan", func() error { return s.FinishScan("j", 1) }, "", nil},
		{"finish scan twice", func() error { return s.FinishScan("j", 1) }, "", nil},
		{"finish with pending shards", func() error { _, err := s.FinishPass("j", 1, t1); return err }, "2 shards still pending", nil},
		{"shards done", func() error {
			for id := uint64(1); id <= 2; id++ {
				if err := s.SetShardState("j", 1, id, ShardDone, 1, ""); err != nil {
					return err
				}
			}
			return s.Report("j", 1, []task.Result{result("a/00000000", task.StatusVerified, 100)})
		}, "", nil},
		{"finish clean pass", func() error { _, err := s.FinishPass("j", 1, t0.Add(time.Hour)); return err }, "",
			func(j Job) { eq(t, "state", j.State, JobSucceeded); eq(t, "checkpoint", j.Checkpoint.Equal(t0), true) }},
		{"finish again changes nothing", func() error { _, err := s.FinishPass("j", 1, t1); return err }, "",
			func(j Job) {
				eq(t, "finished", mustPass(t, s, 1).Finished.Equal(t0.Add(time.Hour)), true)
			}},
		{"stale PutJob keeps pass and checkpoint", func() error {
			return s.PutJob(Job{Name: "j", Config: "new cfg", State: JobSucceeded})
		}, "", func(j Job) {
			eq(t, "pass", j.Pass, uint64(1))
			eq(t, "checkpoint", j.Checkpoint.Equal(t0), true)
			eq(t, "config", j.Config, "new cfg")
			eq(t, "created kept", j.Created.Equal(jobs[0].Created), true)
		}},
		{"start pass 2", func() error { _, err := s.StartPass("j", t1); return err }, "",
			func(j Job) { eq(t, "pass", j.Pass, uint64(2)) }},
		{"pass 2 with a failure", func() error {
			if _, err := s.AppendShards("j", 2, shardsOf("a", 10, 1, 3), nil, ScanCheckpoint{Stream: "a", After: "a/00000012"}); err != nil {
				return err
			}
			if err := s.Report("j", 2, []task.Result{result("a/00000011", task.StatusFailed, 111)}); err != nil {
				return err
			}
			if err := s.SetShardState("j", 2, 1, ShardDone, 1, ""); err != nil {
				return err
			}
			if err := s.FinishScan("j", 2); err != nil {
				return err
			}
			_, err := s.FinishPass("j", 2, t1.Add(time.Hour))
			return err
		}, "", func(j Job) {
			eq(t, "state", j.State, JobFailed)
			eq(t, "checkpoint stays", j.Checkpoint.Equal(t0), true)
		}},
		{"finish an old pass", func() error { _, err := s.FinishPass("j", 1, t1); return err }, "", nil},
		{"start pass 3, cancel, start pass 4", func() error {
			if _, err := s.StartPass("j", t1.Add(2*time.Hour)); err != nil {
				return err
			}
			j, _, _ := s.GetJob("j")
			j.State = JobCanceled
			if err := s.PutJob(j); err != nil {
				return err
			}
			_, err := s.StartPass("j", t1.Add(3*time.Hour))
			return err
		}, "", func(j Job) { eq(t, "pass", j.Pass, uint64(4)); eq(t, "state", j.State, JobRunning) }},
		{"append to a non-current pass", func() error {
			_, err := s.AppendShards("j", 3, shardsOf("b", 0, 1, 1), nil, ScanCheckpoint{Stream: "b", After: "b/00000000"})
			return err
		}, "not the current pass", nil},
		{"unknown job", func() error { _, err := s.StartPass("nope", t0); return err }, "not found", nil},
	}
	for _, st := range steps {
		err := st.do()
		switch {
		case st.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
			t.Fatalf("%s: error %v, want %q", st.name, err, st.wantErr)
		}
		if st.check != nil {
			j, ok, err := s.GetJob("j")
			if !ok || err != nil {
				t.Fatalf("%s: GetJob %v %v", st.name, ok, err)
			}
			st.check(j)
		}
	}
	if _, ok, err := s.GetPass("j", 9); ok || err != nil {
		t.Errorf("GetPass(missing) = %v, %v", ok, err)
	}
	if _, ok, err := s.GetJob("nope"); ok || err != nil {
		t.Errorf("GetJob(missing) = %v, %v", ok, err)
	}
	if _, _, err := s.GetPass("nope", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetPass on a missing job: %v", err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestDeleteJob(t *testing.T) {
	s := newJob(t)
	populate(t, s)
	if err := s.PutJob(Job{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartPass("k", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendShards("k", 1, shardsOf("a", 0, 1, 4), []task.Result{result("a/00000009", task.StatusSkipped, 1)},
		ScanCheckpoint{Stream: "a", After: "a/00000009"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUpload(upload("k", "a/00000001")); err != nil {
		t.Fatal(err)
	}
	before := dump(t, s)
	if err := s.DeleteJob("j"); err != nil {
		t.Fatal(err)
	}
	after := dump(t, s)
	// Exactly job j's keys are gone: every bucket, every key, everywhere.
	for k, v := range before {
		gone := k == "jobs/j" || k == "jobdata/j" || strings.HasPrefix(k, "jobdata/j/")
		if w, ok := after[k]; gone == ok || (ok && w != v) {
			t.Errorf("key %q: before %v, after present=%v", k, gone, ok)
		}
	}
	if len(after) >= len(before) {
		t.Errorf("nothing deleted")
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("new key %q after delete", k)
		}
	}
	if err := s.DeleteJob("j"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteJob: %v", err)
	}
	// A new job by the same name starts empty.
	if err := s.PutJob(Job{Name: "j"}); err != nil {
		t.Fatal(err)
	}
	j, _, _ := s.GetJob("j")
	if j.Pass != 0 || !j.Checkpoint.IsZero() {
		t.Errorf("recreated job %+v", j)
	}
	if _, ok, _ := s.GetUpload("j", "a/00000003"); ok {
		t.Error("upload survived DeleteJob")
	}
}

// Passes visits every pass oldest first, and their counters add up to the
// job's totals.
func TestPassesAndTotals(t *testing.T) {
	s := newJob(t)
	_, err := s.AppendShards("j", 1, shardsOf("a", 0, 1, 3), nil, ScanCheckpoint{Stream: "a", After: "a/00000002", Done: true})
	require.NoError(t, err)
	require.NoError(t, s.Report("j", 1, []task.Result{result("a/00000000", task.StatusVerified, 10),
		result("a/00000001", task.StatusVerified, 20), result("a/00000002", task.StatusFailed, 30)}))
	require.NoError(t, s.SetShardState("j", 1, 1, ShardDone, 1, ""))
	require.NoError(t, s.FinishScan("j", 1))
	_, err = s.FinishPass("j", 1, t0.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, s.SetDestOnly("j", 1, 5))
	require.NoError(t, s.SetDestOnly("j", 1, 4), "a recount replaces the count")
	_, err = s.StartPass("j", t0.Add(time.Hour)) // a pass with nothing to do
	require.NoError(t, err)
	assert.ErrorIs(t, s.SetDestOnly("j", 9, 1), ErrNotFound)

	var (
		ns    []uint64
		total Counters
	)
	require.NoError(t, s.Passes("j", func(p Pass) error {
		ns = append(ns, p.N)
		total.Add(p.Counters)
		return nil
	}))
	assert.Equal(t, []uint64{1, 2}, ns)
	assert.Equal(t, int64(3), total.Scanned)
	assert.Equal(t, int64(2), total.Verified)
	assert.Equal(t, int64(30), total.VerifiedBytes)
	assert.Equal(t, int64(1), total.Failed)
	assert.Equal(t, int64(1), total.Shards)
	assert.Equal(t, int64(2), total.Methods[task.MethodCRC64])
	assert.Equal(t, int64(4), total.DestOnly)
	assert.ErrorIs(t, s.Passes("nope", func(Pass) error { return nil }), ErrNotFound)
}
