package tracker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options tune Open.
type Options struct {
	// ReadOnly opens with a shared lock (several readers, no writer) and
	// refuses writes. The file must exist.
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock; default 1s. A data
	// dir is single-writer: a second master must fail fast, not hang.
	LockTimeout time.Duration
}

// Store is an open tracker database. It is safe for concurrent use;
// bbolt serialises writers. Callbacks given to iterating methods run
// outside any transaction (records are read in short batches), so they
// may call back into the Store.
type Store struct {
	db      *bolt.DB
	commits *groupCommit // Report and SetShardState share commits
	hurry   sync.Map     // job name -> struct{}: see Hurry
	path    string
	pidPath string       // written by a read-write Store, removed by Close
	trimmed atomic.Int64 // unix nanos of the last trimResident
}

// pidFile names the holder of a read-write Store, so a second process
// can say who has the lock. Advisory only: the lock is bbolt's flock.
const pidFile = "ferry.pid"

// reportBatchDelay and reportBatchMax: see Open.
const (
	reportBatchDelay = 50 * time.Millisecond
	reportBatchMax   = 1000
)

// Open opens (creating if needed, unless ReadOnly) <dir>/ferry.db. The dir
// is created 0700; the file is created 0600 and an existing file is
// chmod-ed to 0600, because job configs and manifests name buckets and
// keys the operator may not want other local users to read. If another
// process holds the lock, Open fails within LockTimeout with an error
// wrapping ErrInUse; a file with another schema version fails with
// ErrSchema naming both versions.
func Open(dir string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	path := filepath.Join(dir, DBFile)
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("tracker: create data dir: %w", err)
		}
		if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("tracker: restrict %s to 0600: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  opts.LockTimeout,
		ReadOnly: opts.ReadOnly,
		// The hashmap freelist stays fast on large, fragmented files (a
		// 200M-object manifest); it is an in-memory choice, same file format.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("tracker: data dir %s is in use by another ferry process (%s); "+
			"stop it or use another data dir: %w", dir, holder(dir), ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("tracker: open %s: %w", path, err)
	}
	// Reports and shard states commit about once per reportBatchDelay
	// while they keep coming (groupCommit). A bbolt commit rewrites every
	// page on the path to what it touched, ~25 pages (100 KB) for one
	// report of a few dozen results: at bbolt's default 10 ms the master
	// wrote 4.5 KB per object recorded with 100 workers. A report is off
	// the copy path (a worker's flush loop sends it while copies go on),
	// so the wait costs no throughput; a lone write does not wait.
	s := &Store{db: db, path: path, commits: newGroupCommit(db, reportBatchDelay, reportBatchMax)}
	if err := s.init(opts.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		// Checked after open too: the file may have been created by a
		// process with a different umask, or chmod may be a no-op on
		// some filesystems.
		if fi, err := os.Stat(path); err != nil {
			db.Close()
			return nil, fmt.Errorf("tracker: %w", err)
		} else if fi.Mode().Perm()&0o077 != 0 {
			db.Close()
			return nil, fmt.Errorf("tracker: %s has mode %v, want 0600 (group/world access)", path, fi.Mode().Perm())
		}
		s.pidPath = filepath.Join(dir, pidFile)
		_ = os.WriteFile(s.pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600) // best effort
	}
	return s, nil
}

// holder describes the lock holder from the pid file, if that process
// still exists.
func holder(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return "pid unknown"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return "pid unknown"
	}
	if p, err := os.FindProcess(pid); err == nil {
		if err := p.Signal(syscall.Signal(0)); err == nil || errors.Is(err, os.ErrPermission) {
			return "pid " + strconv.Itoa(pid)
		}
	}
	return "pid unknown"
}

// init creates the top-level buckets of a new file and checks the schema
// version of an existing one.
func (s *Store) init(readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(bktMeta)
		if meta == nil {
			return fmt.Errorf("tracker: %s is not a ferry tracker database (no meta bucket): %w", s.path, ErrSchema)
		}
		v := meta.Get(keySchema)
		if len(v) != 8 {
			return fmt.Errorf("tracker: %s has no valid schema version: %w", s.path, ErrSchema)
		}
		if got := be64(v); got != SchemaVersion {
			hint := ""
			if got > SchemaVersion {
				hint = " (written by a newer ferry; upgrade this binary)"
			}
			return fmt.Errorf("tracker: %s has schema version %d, this ferry supports version %d%s: %w",
				s.path, got, SchemaVersion, hint, ErrSchema)
		}
		return nil
	}
	if readOnly {
		return s.db.View(check)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktMeta) != nil {
			return check(tx)
		}
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return check(tx) // foreign bbolt file: report it, never write to it
		}
		meta, err := tx.CreateBucket(bktMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, u64be(SchemaVersion)); err != nil {
			return err
		}
		for _, name := range [][]byte{bktJobs, bktJobData} {
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("tracker: create bucket %s: %w", name, err)
			}
		}
		return nil
	})
}

// Close releases the file and its lock.
func (s *Store) Close() error {
	if s.pidPath != "" {
		_ = os.Remove(s.pidPath)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("tracker: close %s: %w", s.path, err)
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Backup writes a consistent snapshot of the whole database (a valid
// ferry.db) to w while other transactions continue.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("tracker: backup: %w", err)
	}
	return n, nil
}

func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// jobTx is one job's record and data buckets inside a transaction.
type jobTx struct {
	job  Job
	jobs *bolt.Bucket // top-level jobs
	data *bolt.Bucket // jobdata/<name>
}

// openJob loads the job for a transaction; an unknown job wraps ErrNotFound.
func openJob(tx *bolt.Tx, name string) (*jobTx, error) {
	jobs := tx.Bucket(bktJobs)
	v := jobs.Get([]byte(name))
	data := tx.Bucket(bktJobData).Bucket([]byte(name))
	if v == nil || data == nil {
		return nil, fmt.Errorf("tracker: job %q: %w", name, ErrNotFound)
	}
	j, err := decodeJob(name, v)
	if err != nil {
		return nil, fmt.Errorf("tracker: job %q: %w", name, err)
	}
	return &jobTx{job: j, jobs: jobs, data: data}, nil
}

// sub returns one of the job's buckets; fill is applied for writes.
func (j *jobTx) sub(name []byte, fill float64) *bolt.Bucket {
	b := j.data.Bucket(name)
	if b.Writable() {
		b.FillPercent = fill
	}
	return b
}

func (j *jobTx) putJob() error {
	if err := j.jobs.Put([]byte(j.job.Name), encodeJob(j.job)); err != nil {
		return fmt.Errorf("tracker: job %q: %w", j.job.Name, err)
	}
	return nil
}

// pass loads pass n; a missing pass wraps ErrNotFound.
func (j *jobTx) pass(n uint64) (Pass, error) {
	v := j.sub(bktPasses, fillAppend).Get(passKey(n))
	if v == nil {
		return Pass{}, fmt.Errorf("tracker: job %q pass %d: %w", j.job.Name, n, ErrNotFound)
	}
	p, err := decodePass(j.job.Name, n, v)
	if err != nil {
		return Pass{}, fmt.Errorf("tracker: job %q pass %d: %w", j.job.Name, n, err)
	}
	return p, nil
}

func (j *jobTx) putPass(p Pass) error {
	if err := j.sub(bktPasses, fillAppend).Put(passKey(p.N), encodePass(p)); err != nil {
		return fmt.Errorf("tracker: job %q pass %d: %w", j.job.Name, p.N, err)
	}
	return nil
}

// hasPrefix8 reports whether k starts with the 8-byte prefix p.
func hasPrefix8(k, p []byte) bool { return len(k) >= 8 && bytes.Equal(k[:8], p) }
