package tracker

import (
	"reflect"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

func TestCodecRoundTrip(t *testing.T) {
	old := time.Date(1969, 7, 20, 20, 17, 40, 5, time.UTC)
	objects := []task.Object{
		{Key: "a", Dest: ""}, // empty dest and zero everything
		{Key: "a b+c%d?e#f", Dest: "a b+c%d?e#f", Size: 0, ModTime: old},
		{Key: "a b+c%d?e#g/日本語/ключ", Dest: "prefix/日本語/ключ", Size: 5 << 40, ETag: `"X-3"`, CRC64: ^uint64(0), HasCRC64: true},
		{Key: "zz", Dest: "completely/different", Size: -1},
	}
	got, err := decodeObjects(encodeObjects(nil, objects))
	if err != nil || !sameObjects(got, objects) {
		t.Errorf("objects round trip: %v\n got %+v\nwant %+v", err, got, objects)
	}
	for _, r := range []task.Result{
		{Key: "k", Status: task.StatusFailed, Reason: "x", Class: "fatal", Attempts: -1, Duration: -time.Second},
		{Key: "日本/k", Dest: "dst/日本/k", Status: task.StatusVerified, Method: task.MethodReread, Size: 1, ModTime: old,
			ETag: "e", DestETag: "E", CRC64: 7, HasCRC64: true, BytesRead: 1, BytesSent: 1, Attempts: 3, Duration: time.Hour},
		{Key: "kept", Dest: "kept", Status: task.StatusSkipped, Outcome: task.OutcomeKept, Reason: "newer"},
		{Key: "c", Dest: "b/1/c", Status: task.StatusVerified, Method: task.MethodCopyETag, Outcome: task.OutcomeServerCopy, Size: 9},
	} {
		e, _, err := decodeEntry(r.Key, encodeEntry(7, old, encodeResult(&r)))
		if err != nil || e.Pass != 7 || !e.Updated.Equal(old) || !reflect.DeepEqual(e.Result, r) {
			t.Errorf("entry round trip: %v\n got %+v\nwant %+v", err, e, r)
		}
	}
	p := Pass{Job: "j", N: 3, Started: old, ScanFinished: true, Counters: Counters{Scanned: 1, ShardsFailed: -2,
		DestOnly: 5, Methods: map[task.Method]int64{task.MethodMD5: 4, task.MethodSize: 1}, Deleted: 6, WouldDelete: 7,
		Identical: 6, IdenticalBytes: 7, Kept: 8, KeptBytes: 9, ServerCopied: 10, ServerCopiedBytes: 11 << 40},
		Problem: "guard", SkippedRuns: 3,
		Snapshot: Snapshot{Prefix: "b/2026-11-30/", Base: 2, BasePrefix: "b/2026-11-29/", Complete: old.Add(time.Hour),
			Objects: 12, Bytes: 13, Removed: old.Add(2 * time.Hour), Removing: true, Why: "keep-last 1"}}
	enc := encodePass(p)
	if got, err := decodePass("j", 3, enc); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("pass round trip: %v\n got %+v\nwant %+v", err, got, p)
	}
	// Fields were appended over time; a record that ends before any of
	// them decodes with those zero. Newest first: the snapshot, the skipped
	// runs and the overwrite outcomes (one byte each here), then the
	// delete fields.
	var snap encoder
	snap.varint(p.ServerCopied)
	snap.varint(p.ServerCopiedBytes)
	encodeSnapshot(&snap, p.Snapshot)
	enc = enc[:len(enc)-len(snap.b)]
	p.ServerCopied, p.ServerCopiedBytes, p.Snapshot = 0, 0, Snapshot{}
	if got, err := decodePass("j", 3, enc); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("pass before snapshots: %v\n got %+v\nwant %+v", err, got, p)
	}
	p.SkippedRuns = 0
	enc = enc[:len(enc)-1]
	if got, err := decodePass("j", 3, enc); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("pass before skipped runs: %v\n got %+v\nwant %+v", err, got, p)
	}
	p.Identical, p.IdenticalBytes, p.Kept, p.KeptBytes = 0, 0, 0, 0
	enc = enc[:len(enc)-4]
	if got, err := decodePass("j", 3, enc); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("pass before the outcomes: %v\n got %+v\nwant %+v", err, got, p)
	}
	var tail encoder
	tail.varint(p.Deleted)
	tail.varint(p.WouldDelete)
	tail.str(p.Problem)
	enc = enc[:len(enc)-len(tail.b)]
	p.Deleted, p.WouldDelete, p.Problem = 0, 0, ""
	if got, err := decodePass("j", 3, enc); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("pass before delete propagation: %v\n got %+v\nwant %+v", err, got, p)
	}
	// A pass written before DestOnly existed (the record ends after the
	// methods) still decodes, with DestOnly zero.
	p.DestOnly = 0
	if got, err := decodePass("j", 3, enc[:len(enc)-1]); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("pass of an older format: %v\n got %+v\nwant %+v", err, got, p)
	}
	// A result without an outcome encodes as before it existed, so stored
	// entries still compare equal to the same report (duplicate detection).
	plain := task.Result{Key: "k", Status: task.StatusSkipped, Reason: "r"}
	withOutcome := plain
	withOutcome.Outcome = task.OutcomeIdentical
	if a, b := encodeResult(&plain), encodeResult(&withOutcome); !reflect.DeepEqual(a, b[:len(a)]) || len(b) == len(a) {
		t.Errorf("outcome must be a trailing field: %x vs %x", a, b)
	}
	j := Job{Name: "n", Config: "a=b\n", Source: "s", Dest: "d", Created: old, State: JobCanceled, Pass: 9, Checkpoint: old}
	if got, err := decodeJob("n", encodeJob(j)); err != nil || !reflect.DeepEqual(got, j) {
		t.Errorf("job round trip: %v\n got %+v\nwant %+v", err, got, j)
	}
	raced := j
	raced.WriteRace = "the destination does not enforce put if-match"
	if got, err := decodeJob("n", encodeJob(raced)); err != nil || !reflect.DeepEqual(got, raced) {
		t.Errorf("job with a write race round trip: %v\n got %+v\nwant %+v", err, got, raced)
	}
}

// FuzzDecode: no corrupt value may panic a decoder (a damaged file must
// give an error, not take the master down).
func FuzzDecode(f *testing.F) {
	r := task.Result{Key: "k", Dest: "d/k", Status: task.StatusVerified, HasCRC64: true}
	u := upload("j", "k")
	f.Add(encodeObjects(nil, objs("a", 0, 3)))
	f.Add(encodeEntry(1, t0, encodeResult(&r)))
	f.Add(encodePass(Pass{Counters: Counters{Methods: map[task.Method]int64{"m": 1}}}))
	f.Add(encodeUpload(&u))
	f.Add(encodeShardHeader(shardHeader{LastError: "x", Count: 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 { // prefix-compressed keys expand ~n² on garbage
			return
		}
		_, _ = decodeObjects(b)
		_, _, _ = decodeEntry("some/key", b)
		_, _ = decodePass("j", 1, b)
		_, _ = decodeUpload("j", "k", b)
		_, _ = decodeShardHeader(b)
		_, _ = decodeJob("j", b)
		_, _ = decodeScan("s", b)
	})
}
