package tracker

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Why the tracker drops its mapped pages.
//
// bbolt reads the file through a read-only shared mmap and writes it with
// pwrite, so every page a transaction has written sits in the page cache,
// and every fault on the mapping (a meta page, a branch, the freelist) maps
// the neighbouring cached pages too (Linux's fault-around, 64 KiB). Those
// pages count in the process's RSS. Over a scan of millions of objects that
// grew RSS with the size of the file, not with what the master holds: at
// 1 M objects 19 of 34 MiB were file pages, at 2 M 29 of 42 (docs/
// benchmarks.md). Every so often the Store zaps its mapping's page table
// entries (madvise MADV_DONTNEED): the pages stay in the page cache, the
// next access maps them back, and RSS shows the master's working set.

// trimEvery spaces the trims: one costs a read transaction and a system
// call, and bulk writes (a scan's shards, a worker's results) commit many
// times a second.
const trimEvery = 250 * time.Millisecond

// trimResident drops the mapping's resident pages, at most once per
// trimEvery; called after bulk writes. Best effort: a failure only leaves
// RSS as it was.
func (s *Store) trimResident() {
	now := time.Now().UnixNano()
	last := s.trimmed.Load()
	if now-last < int64(trimEvery) || !s.trimmed.CompareAndSwap(last, now) {
		return
	}
	// Inside a read transaction bbolt cannot remap (a remap takes the
	// mmap lock for writing, which waits for readers), so the address
	// and length stay those of the live mapping while we advise it; the
	// length is the file's extent as of this transaction, which the
	// mapping always covers.
	_ = s.db.View(func(tx *bolt.Tx) error {
		dropResident(s.db.Info().Data, tx.Size())
		return nil
	})
}
