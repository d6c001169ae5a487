// Package tracker is ferry's durable state: jobs, passes, shards, the
// object manifest, multipart upload state and scan checkpoints, kept in one
// bbolt file (<data dir>/ferry.db). It stores plain Go types (its own and
// package task's) and imports nothing of master, worker or proto.
//
// The data dir is single-writer (bbolt's file lock); a read-write Store
// also writes <data dir>/ferry.pid, advisory only, so a second process can
// name the holder in its error.
//
// Every write is one bbolt transaction with fsync, so a kill -9 leaves each
// call either fully applied or not at all. Callers batch (a whole scanned
// shard, a worker's report) to keep the fsync count low.
//
// # Schema (version 1)
//
// All integers in keys are big-endian uint64 ("u64be") so that byte order
// is numeric order and appends land at the end of a bucket. Values use the
// compact binary encoding in codec.go and records.go (uvarints,
// length-prefixed strings).
//
//	meta                       top-level
//	  "schema"                 -> u64be schema version (SchemaVersion)
//	jobs                       top-level
//	  <job name>               -> job record: config, source, dest, created,
//	                              state, current pass, checkpoint
//	jobdata                    top-level; one nested bucket per job, so
//	  <job name>/              DeleteJob drops a job's data in one call
//	    passes                 u64be(pass) -> pass record: started, finished,
//	                              scan-finished, Counters
//	    shards                 u64be(pass) u64be(shard id) -> shard header:
//	                              state, attempts, last error, object count,
//	                              bytes (small: rewritten on every state change)
//	    objects                u64be(pass) u64be(shard id) -> the shard's
//	                              objects in ONE value, keys prefix-compressed
//	                              against the previous key, Dest stored as the
//	                              part not shared with the key's tail, CRC64
//	                              only when HasCRC64 (append-only, never
//	                              rewritten; kept apart from the header so an
//	                              ack does not rewrite a 1 MB value)
//	    scan                   u64be(pass) <stream> -> scan checkpoint:
//	                              last key listed and sharded, done flag
//	    manifest               <source key> -> entry: pass, updated, Result
//	                              (one entry per key; a later pass supersedes)
//	    failed                 <source key> -> "" index of the manifest keys
//	                              whose entry is StatusFailed, so retries and
//	                              failure reports do not scan the manifest
//	    uploads                <source key> -> multipart UploadState (its
//	                              checksum and verify mode are trailing
//	                              fields, absent in records of older builds)
//
// Shard ids start at 1 in every pass and are assigned by AppendShards.
// Append-only buckets (passes, shards, objects, scan) are written with
// FillPercent 1.0: keys only ever grow, so half-empty split pages would be
// wasted. The manifest gets 0.9: scan streams insert in sorted runs that
// may interleave, and reports grow values in place.
//
// Opening a file whose schema version differs from SchemaVersion is an
// error naming both versions; there is no silent migration.
package tracker

import "encoding/binary"

// SchemaVersion is the layout described in the package comment. Bump it
// on any incompatible change to a bucket, key or value encoding.
const SchemaVersion uint64 = 1

// DBFile is the name of the database file inside the data dir.
const DBFile = "ferry.db"

var (
	bktMeta     = []byte("meta")
	bktJobs     = []byte("jobs")
	bktJobData  = []byte("jobdata")
	keySchema   = []byte("schema")
	bktPasses   = []byte("passes")
	bktShards   = []byte("shards")
	bktObjects  = []byte("objects")
	bktScan     = []byte("scan")
	bktManifest = []byte("manifest")
	bktFailed   = []byte("failed")
	bktUploads  = []byte("uploads")

	// jobSubBuckets are created by PutJob; every one must be listed in the
	// package comment above.
	jobSubBuckets = [][]byte{bktPasses, bktShards, bktObjects, bktScan, bktManifest, bktFailed, bktUploads}
)

const (
	fillAppend   = 1.0
	fillManifest = 0.9
)

func u64be(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// passKey is u64be(pass), the key in passes and the prefix of shard keys.
func passKey(n uint64) []byte { return u64be(n) }

// shardKey is u64be(pass) u64be(id), the key in shards and objects.
func shardKey(n, id uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], n)
	binary.BigEndian.PutUint64(b[8:], id)
	return b[:]
}

// splitShardKey is the inverse of shardKey.
func splitShardKey(k []byte) (n, id uint64, ok bool) {
	if len(k) != 16 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:]), true
}

// scanKey is u64be(pass) stream, the key in scan.
func scanKey(n uint64, stream string) []byte {
	return append(u64be(n), stream...)
}
