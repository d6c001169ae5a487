package tracker

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newJob opens a store in a temp dir with job "j" and pass 1 started.
func newJob(t testing.TB) *Store {
	t.Helper()
	s := openTest(t, t.TempDir())
	if err := s.PutJob(Job{Name: "j", Config: "srcType=s3", Source: "s3://a", Dest: "oss://b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartPass("j", t0); err != nil {
		t.Fatal(err)
	}
	return s
}

// objs makes count objects <stream>/<i> with 8-digit indexes from first.
func objs(stream string, first, count int) []task.Object {
	out := make([]task.Object, count)
	for i := range out {
		k := fmt.Sprintf("%s/%08d", stream, first+i)
		out[i] = task.Object{Key: k, Dest: "dst/" + k, Size: int64(100 + i), ModTime: t0.Add(time.Duration(i) * time.Second),
			ETag: fmt.Sprintf("etag-%d", i)}
		if i%2 == 0 { // CRC64 is only stored with HasCRC64
			out[i].CRC64, out[i].HasCRC64 = uint64(i)*0x9E3779B97F4A7C15, true
		}
	}
	return out
}

func result(key string, st task.Status, size int64) task.Result {
	r := task.Result{Key: key, Dest: "dst/" + key, Status: st, Size: size, ModTime: t0, ETag: "e",
		BytesRead: size, BytesSent: size, Attempts: 1}
	switch st {
	case task.StatusVerified:
		r.Method, r.CRC64, r.HasCRC64 = task.MethodCRC64, 42, true
	case task.StatusSkipped:
		r.Method, r.BytesRead, r.BytesSent = task.MethodManifest, 0, 0
	case task.StatusFailed:
		r.Reason, r.Class = "boom", "retryable"
	}
	return r
}

func mustPass(t testing.TB, s *Store, n uint64) Pass {
	t.Helper()
	p, ok, err := s.GetPass("j", n)
	if err != nil || !ok {
		t.Fatalf("GetPass(%d) = %v, %v", n, ok, err)
	}
	return p
}

// dump flattens every bucket and key of the database into path -> value,
// so tests can compare whole states and look for leftovers.
func dump(t testing.TB, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(prefix string, b *bolt.Bucket)
	walk = func(prefix string, b *bolt.Bucket) {
		_ = b.ForEach(func(k, v []byte) error {
			p := prefix + "/" + string(k)
			if v == nil {
				out[p] = "<bucket>"
				walk(p, b.Bucket(k))
			} else {
				out[p] = string(v)
			}
			return nil
		})
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			out[string(name)] = "<bucket>"
			walk(string(name), b)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// shardsOf makes n shards of per objects each, consecutive from first.
func shardsOf(stream string, first, n, per int) []task.Shard {
	out := make([]task.Shard, n)
	for i := range out {
		out[i] = task.Shard{Objects: objs(stream, first+i*per, per)}
	}
	return out
}

func upload(job, key string) task.UploadState {
	return task.UploadState{Job: job, Key: key, Dest: "dst/" + key, UploadID: "up-" + key, PartSize: 8 << 20,
		Size: 20 << 20, ModTime: t0, ETag: `"abc"`, Created: t0.Add(time.Minute),
		Parts: []task.PartState{
			{Number: 1, Size: 8 << 20, ETag: `"p1"`, CRC64: 0xFFFFFFFFFFFFFFFF, MD5: "d41d8cd98f00b204e9800998ecf8427e"},
			{Number: 2, Size: 8 << 20, ETag: `"p2"`, CRC64: 1, MD5: "00"},
		}, Checksum: "crc64nvme:WZvzgmIcGKc=", Verify: "auto"}
}
