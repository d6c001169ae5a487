package tracker

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

func TestSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(db *bolt.DB) error // on a fresh bbolt file
		wantErr []string                // substrings; none = opens fine
	}{
		{"current version", func(db *bolt.DB) error { return nil }, nil},
		{"newer version", setVersion(SchemaVersion + 1), []string{"schema version 2", "supports version 1", "newer ferry"}},
		{"unknown older version", setVersion(0), []string{"schema version 0", "supports version 1"}},
		{"foreign bbolt file", func(db *bolt.DB) error {
			return db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
		}, []string{"not a ferry tracker database"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.wantErr != nil {
				db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.prepare(db); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			s, err := Open(dir, Options{})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want error")
			}
			if !errors.Is(err, ErrSchema) {
				t.Errorf("error %v does not wrap ErrSchema", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func setVersion(v uint64) func(db *bolt.DB) error {
	return func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bktMeta)
			if err != nil {
				return err
			}
			return b.Put(keySchema, u64be(v))
		})
	}
}

func TestFileModes(t *testing.T) {
	tests := []struct {
		name    string
		preMode os.FileMode // 0 = no file before Open
	}{
		{"new file", 0},
		{"existing world-readable file is restricted", 0o644},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if tc.preMode != 0 {
				openTest(t, dir).Close()
				if err := os.Chmod(filepath.Join(dir, DBFile), tc.preMode); err != nil {
					t.Fatal(err)
				}
			}
			s := openTest(t, dir)
			fi, err := os.Stat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("db mode %v, want 0600", fi.Mode().Perm())
			}
			di, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.preMode == 0 && di.Mode().Perm() != 0o700 {
				t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
			}
		})
	}
}

func TestLockedDir(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	for _, ro := range []bool{false, true} {
		start := time.Now()
		s2, err := Open(dir, Options{ReadOnly: ro, LockTimeout: 100 * time.Millisecond})
		if err == nil {
			s2.Close()
			t.Fatalf("second Open (readonly=%v) succeeded on a locked dir", ro)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("second Open took %v", d)
		}
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "in use by another ferry process") ||
			!strings.Contains(err.Error(), dir) {
			t.Errorf("unclear lock error: %v", err)
		}
		// The holder wrote its pid file, and it is this (live) process.
		if !strings.Contains(err.Error(), "pid ") {
			t.Errorf("lock error names no pid: %v", err)
		}
	}
	s.Close()
	s3, err := Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only Open of a missing db succeeded")
	}
	s := openTest(t, dir)
	if err := s.PutJob(Job{Name: "j"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, ok, err := ro.GetJob("j"); !ok || err != nil {
		t.Fatalf("GetJob on read-only store: %v %v", ok, err)
	}
	if err := ro.PutJob(Job{Name: "k"}); err == nil {
		t.Error("PutJob on a read-only store succeeded")
	}
}

// populate gives a store some of everything.
func populate(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.AppendShards("j", 1, nil, nil, ScanCheckpoint{Stream: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendShards("j", 1, shardsOf("a", 0, 3, 10), nil, ScanCheckpoint{Stream: "a", After: "a/00000029"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Report("j", 1, []task.Result{result("a/00000001", task.StatusVerified, 5), result("a/00000002", task.StatusFailed, 7)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetShardState("j", 1, 1, ShardDone, 1, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUpload(upload("j", "a/00000003")); err != nil {
		t.Fatal(err)
	}
}

func TestReopenAndBackup(t *testing.T) {
	s := newJob(t)
	populate(t, s)
	want := dump(t, s)

	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (wrote %d)", n, err, buf.Len())
	}
	dir := s.Path()
	s.Close()

	// Reopen after Close keeps everything.
	s2 := openTest(t, filepath.Dir(dir))
	if got := dump(t, s2); !equalMaps(got, want) {
		t.Errorf("reopened db differs: %d keys, want %d", len(got), len(want))
	}
	s2.Close()

	// The backup is a ferry.db that opens with the same data.
	bdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(bdir, DBFile), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, bdir)
	if got := dump(t, b); !equalMaps(got, want) {
		t.Errorf("backup differs: %d keys, want %d", len(got), len(want))
	}
	if p := mustPass(t, b, 1); p.Shards != 3 || p.ShardsDone != 1 || p.Verified != 1 || p.Failed != 1 {
		t.Errorf("backup pass counters %+v", p.Counters)
	}
}
