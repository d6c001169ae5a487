package tracker

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

func TestReportIdempotency(t *testing.T) {
	s := newJob(t)
	if _, err := s.AppendShards("j", 1, shardsOf("a", 0, 1, 4), nil, ScanCheckpoint{Stream: "a", After: "a/00000003"}); err != nil {
		t.Fatal(err)
	}
	v := func(k string, size int64) task.Result { return result(k, task.StatusVerified, size) }
	f := func(k string, size int64) task.Result { return result(k, task.StatusFailed, size) }
	retry := v("a/00000001", 200)
	retry.Attempts, retry.Method = 2, task.MethodMD5
	c := func(ver, verB, skip, fail, failB, read int64, methods map[task.Method]int64) Counters {
		// The only skipped object below has size 10.
		return Counters{Verified: ver, VerifiedBytes: verB, Skipped: skip, SkippedBytes: 10 * skip, Failed: fail, FailedBytes: failB,
			BytesRead: read, BytesSent: read, Methods: methods}
	}
	steps := []struct {
		name      string
		pass      uint64
		results   []task.Result
		want      Counters // of pass 1, scan counters excluded
		unchanged bool     // the whole database must be byte-identical
	}{
		{"first report", 1, []task.Result{v("a/00000000", 100), f("a/00000001", 200)},
			c(1, 100, 0, 1, 200, 300, map[task.Method]int64{task.MethodCRC64: 1}), false},
		{"same report again", 1, []task.Result{f("a/00000001", 200), v("a/00000000", 100)},
			c(1, 100, 0, 1, 200, 300, map[task.Method]int64{task.MethodCRC64: 1}), true},
		{"failed then verified moves counts", 1, []task.Result{retry},
			c(2, 300, 0, 0, 0, 500, map[task.Method]int64{task.MethodCRC64: 1, task.MethodMD5: 1}), false},
		{"stale failure does not undo a verify", 1, []task.Result{f("a/00000001", 200)},
			c(2, 300, 0, 0, 0, 500, map[task.Method]int64{task.MethodCRC64: 1, task.MethodMD5: 1}), true},
		{"verified re-verified by another method", 1, []task.Result{func() task.Result {
			r := v("a/00000000", 100)
			r.Method = task.MethodMD5
			return r
		}()}, c(2, 300, 0, 0, 0, 600, map[task.Method]int64{task.MethodMD5: 2}), false},
		{"duplicate key in one call: later wins", 1, []task.Result{f("a/00000003", 50), v("a/00000003", 50)},
			c(3, 350, 0, 0, 0, 700, map[task.Method]int64{task.MethodMD5: 2, task.MethodCRC64: 1}), false},
		{"skip", 1, []task.Result{result("a/00000002", task.StatusSkipped, 10)},
			c(3, 350, 1, 0, 0, 700, map[task.Method]int64{task.MethodMD5: 2, task.MethodCRC64: 1, task.MethodManifest: 1}), false},
		{"pass 2 supersedes without touching pass 1", 2, []task.Result{f("a/00000000", 100)},
			c(3, 350, 1, 0, 0, 700, map[task.Method]int64{task.MethodMD5: 2, task.MethodCRC64: 1, task.MethodManifest: 1}), false},
		{"late pass-1 result for a pass-2 key is ignored", 1, []task.Result{v("a/00000000", 999)},
			c(3, 350, 1, 0, 0, 700, map[task.Method]int64{task.MethodMD5: 2, task.MethodCRC64: 1, task.MethodManifest: 1}), true},
	}
	for _, st := range steps {
		if st.pass == 2 {
			if j, _, _ := s.GetJob("j"); j.Pass == 1 { // cancel pass 1, start pass 2
				j.State = JobCanceled
				if err := s.PutJob(j); err != nil {
					t.Fatal(err)
				}
				if _, err := s.StartPass("j", t0.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
		}
		before := dump(t, s)
		if err := s.Report("j", st.pass, st.results); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := mustPass(t, s, 1).Counters
		got.Scanned, got.ScannedBytes, got.Shards = 0, 0, 0
		if !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", st.name, got, st.want)
		}
		if st.unchanged && !equalMaps(before, dump(t, s)) {
			t.Errorf("%s: database changed", st.name)
		}
		checkFailedIndex(t, s)
	}
	if p2 := mustPass(t, s, 2); p2.Failed != 1 || p2.FailedBytes != 100 || p2.Verified != 0 {
		t.Errorf("pass 2 counters %+v", p2.Counters)
	}
	if err := s.Report("j", 9, []task.Result{v("x", 1)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("report to a missing pass: %v", err)
	}
}

// checkFailedIndex compares Manifest(StatusFailed), served by the index,
// with a filtered full scan.
func checkFailedIndex(t *testing.T, s *Store) {
	t.Helper()
	var viaIndex, viaScan []string
	if err := s.Manifest("j", task.StatusFailed, "", func(e Entry) error { viaIndex = append(viaIndex, e.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Manifest("j", task.StatusUnknown, "", func(e Entry) error {
		if e.Status == task.StatusFailed {
			viaScan = append(viaScan, e.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viaIndex, viaScan) {
		t.Errorf("failed index %v, manifest says %v", viaIndex, viaScan)
	}
}

func TestManifestIteration(t *testing.T) {
	s := newJob(t)
	const n = 2*batchRecords*8 + 17 // several read batches, and filtered batches
	var rs []task.Result
	for _, o := range objs("a", 0, n) {
		st := task.StatusVerified
		if len(rs)%100 == 7 {
			st = task.StatusFailed
		}
		rs = append(rs, result(o.Key, st, o.Size))
	}
	if err := s.Report("j", 1, rs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		status task.Status
		after  string
		want   int
	}{
		{task.StatusUnknown, "", n},
		{task.StatusVerified, "", n - (n+92)/100},
		{task.StatusFailed, "", (n + 92) / 100},
		{task.StatusUnknown, "a/00000099", n - 100},
		{task.StatusFailed, "a/00000007", (n+92)/100 - 1},
		{task.StatusSkipped, "", 0},
	}
	for _, tc := range tests {
		got, prev := 0, tc.after
		err := s.Manifest("j", tc.status, tc.after, func(e Entry) error {
			if e.Key <= prev || (tc.status != task.StatusUnknown && e.Status != tc.status) || e.Pass != 1 {
				t.Fatalf("Manifest(%v, %q) gave %q (%v) after %q", tc.status, tc.after, e.Key, e.Status, prev)
			}
			prev = e.Key
			got++
			return nil
		})
		if err != nil || got != tc.want {
			t.Errorf("Manifest(%v, %q): %d entries, %v; want %d", tc.status, tc.after, got, err, tc.want)
		}
	}
	m, err := s.Lookup("j", []string{"a/00000007", "a/00000008", "zzz"})
	if err != nil || len(m) != 2 {
		t.Fatalf("Lookup = %v, %v", m, err)
	}
	e := m["a/00000007"]
	want := rs[7]
	if e.Status != task.StatusFailed || e.Reason != "boom" || e.Class != "retryable" || e.Dest != want.Dest ||
		e.Size != want.Size || !e.ModTime.Equal(want.ModTime) || e.Updated.IsZero() {
		t.Errorf("entry %+v", e)
	}
	e8 := m["a/00000008"].Result
	w8 := rs[8]
	e8.ModTime, w8.ModTime = time.Time{}, time.Time{}
	if e8 != w8 {
		t.Errorf("entry round trip:\n got %+v\nwant %+v", e8, w8)
	}
}

func TestUploadsCRUD(t *testing.T) {
	s := newJob(t)
	keys := []string{"b/2", "a/1 with space+%?#", "c/3"}
	for _, k := range keys {
		if err := s.PutUpload(upload("j", k)); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.GetUpload("j", keys[1])
	if err != nil || !ok || !reflect.DeepEqual(got, upload("j", keys[1])) {
		t.Fatalf("GetUpload = %+v, %v, %v", got, ok, err)
	}
	// Update: one more part.
	u := upload("j", "b/2")
	u.Parts = append(u.Parts, task.PartState{Number: 3, Size: 4 << 20, ETag: `"p3"`, CRC64: 3, MD5: "33"})
	if err := s.PutUpload(u); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.GetUpload("j", "b/2"); !reflect.DeepEqual(got, u) {
		t.Errorf("updated upload %+v", got)
	}
	var listed []string
	if err := s.Uploads("j", func(u task.UploadState) error { listed = append(listed, u.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(listed, []string{"a/1 with space+%?#", "b/2", "c/3"}) {
		t.Errorf("Uploads listed %q", listed)
	}
	for _, k := range []string{"b/2", "b/2", "missing"} {
		if err := s.DeleteUpload("j", k); err != nil {
			t.Errorf("DeleteUpload(%q): %v", k, err)
		}
	}
	if _, ok, err := s.GetUpload("j", "b/2"); ok || err != nil {
		t.Errorf("deleted upload still there: %v %v", ok, err)
	}
	if err := s.PutUpload(upload("nope", "k")); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutUpload for a missing job: %v", err)
	}
	if err := s.PutUpload(task.UploadState{Job: "j"}); err == nil {
		t.Error("PutUpload with an empty key succeeded")
	}
}

// TestUploadRecordWithoutTrailingFields: records written before an
// upload's checksum and verify mode were saved still decode, with both
// empty (the copier reads that as "hashed for auto, nothing declared").
func TestUploadRecordWithoutTrailingFields(t *testing.T) {
	u := upload("j", "k")
	u.Checksum, u.Verify = "", ""
	rec := encodeUpload(&u)
	old := rec[:len(rec)-2] // two empty strings: one length byte each
	got, err := decodeUpload("j", "k", old)
	if err != nil || !reflect.DeepEqual(got, u) {
		t.Fatalf("old record decoded as %+v, %v", got, err)
	}
	full := upload("j", "k")
	got, err = decodeUpload("j", "k", encodeUpload(&full))
	if err != nil || !reflect.DeepEqual(got, full) {
		t.Fatalf("record decoded as %+v, %v", got, err)
	}
	if _, err := decodeUpload("j", "k", append(encodeUpload(&full), 1)); err == nil {
		t.Error("a record with a stray trailing byte decoded")
	}
}
