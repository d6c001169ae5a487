package tracker

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

// Encodings of shards, manifest entries, scan checkpoints and uploads;
// the primitives and the job and pass records are in codec.go.

// --- shards ---

// shardHeader is the small, mutable half of a stored shard.
type shardHeader struct {
	State     ShardState
	Attempts  int
	LastError string
	Count     int
	Bytes     int64
}

func encodeShardHeader(h shardHeader) []byte {
	var e encoder
	e.byte1(byte(h.State))
	e.varint(int64(h.Attempts))
	e.str(h.LastError)
	e.uvarint(uint64(h.Count))
	e.varint(h.Bytes)
	return e.b
}

func decodeShardHeader(v []byte) (shardHeader, error) {
	d := decoder{b: v}
	var h shardHeader
	h.State = ShardState(d.byte1())
	h.Attempts = d.integer()
	h.LastError = d.str()
	h.Count = int(d.uvarint())
	h.Bytes = d.varint()
	return h, d.finish()
}

// encodeObjects writes a shard's objects (sorted by key) with each key
// stored as (bytes shared with the previous key, rest) and each Dest as
// (bytes shared with the end of its key, rest): listings share long
// prefixes, and dest = destPrefix + key minus srcPrefix shares the tail.
func encodeObjects(buf []byte, objs []task.Object) []byte {
	e := encoder{b: buf}
	e.uvarint(uint64(len(objs)))
	prev := ""
	for i := range objs {
		o := &objs[i]
		p := commonPrefix(prev, o.Key)
		e.uvarint(uint64(p))
		e.str(o.Key[p:])
		s := commonSuffix(o.Key, o.Dest)
		e.uvarint(uint64(s))
		e.str(o.Dest[:len(o.Dest)-s])
		e.varint(o.Size)
		e.time(o.ModTime)
		e.str(o.ETag)
		e.boolean(o.HasCRC64)
		if o.HasCRC64 {
			e.fixed64(o.CRC64)
		}
		prev = o.Key
	}
	return e.b
}

func decodeObjects(v []byte) ([]task.Object, error) {
	d := decoder{b: v}
	n := d.uvarint()
	if n > uint64(len(v)) { // each object takes at least one byte
		return nil, errCorrupt
	}
	objs := make([]task.Object, n)
	prev := ""
	for i := range objs {
		o := &objs[i]
		p := d.uvarint()
		rest := d.bytes()
		// Keys over bbolt's key limit were never written (AppendShards
		// refuses them); on a damaged value this also stops a shared
		// prefix from growing without bound.
		if d.err != nil || p > uint64(len(prev)) || p+uint64(len(rest)) > bolt.MaxKeySize {
			return nil, errCorrupt
		}
		o.Key = prev[:p] + string(rest)
		s := d.uvarint()
		head := d.bytes()
		if d.err != nil || s > uint64(len(o.Key)) {
			return nil, errCorrupt
		}
		o.Dest = string(head) + o.Key[uint64(len(o.Key))-s:]
		o.Size = d.varint()
		o.ModTime = d.time()
		o.ETag = d.str()
		if o.HasCRC64 = d.boolean(); o.HasCRC64 {
			o.CRC64 = d.fixed64()
		}
		prev = o.Key
	}
	return objs, d.finish()
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

func commonSuffix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

// --- manifest, scan checkpoints, uploads ---

// encodeEntry writes pass and updated time first, then the result; the
// result part alone (encodeResult) is what Report compares to recognise a
// duplicate.
func encodeEntry(pass uint64, updated time.Time, result []byte) []byte {
	var e encoder
	e.b = make([]byte, 0, 16+len(result))
	e.uvarint(pass)
	e.time(updated)
	e.b = append(e.b, result...)
	return e.b
}

func encodeResult(r *task.Result) []byte {
	var e encoder
	e.byte1(byte(r.Status))
	e.str(string(r.Method))
	s := commonSuffix(r.Key, r.Dest) // Key is the bucket key; see encodeObjects
	e.uvarint(uint64(s))
	e.str(r.Dest[:len(r.Dest)-s])
	e.str(r.Reason)
	e.str(r.Class)
	e.varint(r.Size)
	e.time(r.ModTime)
	e.str(r.ETag)
	e.str(r.DestETag)
	e.boolean(r.HasCRC64)
	if r.HasCRC64 {
		e.fixed64(r.CRC64)
	}
	e.varint(r.BytesRead)
	e.varint(r.BytesSent)
	e.varint(int64(r.Attempts))
	e.varint(int64(r.Duration))
	// Fields added later go last, written only when set: a result without
	// them encodes as before (Report compares encodings for duplicates).
	if r.Outcome != "" {
		e.str(string(r.Outcome))
	}
	return e.b
}

// decodeEntry returns the entry and the offset of its result part.
func decodeEntry(key string, v []byte) (Entry, int, error) {
	d := decoder{b: v}
	var en Entry
	en.Pass = d.uvarint()
	en.Updated = d.time()
	off := len(v) - len(d.b)
	r := &en.Result
	r.Key = key
	r.Status = task.Status(d.byte1())
	r.Method = task.Method(d.str())
	s := d.uvarint()
	head := d.str()
	if d.err != nil || s > uint64(len(key)) {
		return Entry{}, 0, errCorrupt
	}
	r.Dest = head + key[uint64(len(key))-s:]
	r.Reason = d.str()
	r.Class = d.str()
	r.Size = d.varint()
	r.ModTime = d.time()
	r.ETag = d.str()
	r.DestETag = d.str()
	if r.HasCRC64 = d.boolean(); r.HasCRC64 {
		r.CRC64 = d.fixed64()
	}
	r.BytesRead = d.varint()
	r.BytesSent = d.varint()
	r.Attempts = d.integer()
	r.Duration = time.Duration(d.varint())
	if d.more() {
		r.Outcome = task.Outcome(d.str())
	}
	return en, off, d.finish()
}

func encodeScan(cp ScanCheckpoint) []byte {
	var e encoder
	e.str(cp.After)
	e.boolean(cp.Done)
	return e.b
}

func decodeScan(stream string, v []byte) (ScanCheckpoint, error) {
	d := decoder{b: v}
	cp := ScanCheckpoint{Stream: stream}
	cp.After = d.str()
	cp.Done = d.boolean()
	return cp, d.finish()
}

func encodeUpload(u *task.UploadState) []byte {
	var e encoder
	e.str(u.Dest)
	e.str(u.UploadID)
	e.varint(u.PartSize)
	e.varint(u.Size)
	e.time(u.ModTime)
	e.str(u.ETag)
	e.time(u.Created)
	e.uvarint(uint64(len(u.Parts)))
	for _, p := range u.Parts {
		e.varint(int64(p.Number))
		e.varint(p.Size)
		e.str(p.ETag)
		e.fixed64(p.CRC64)
		e.str(p.MD5)
	}
	// Added after the first release of schema v1; absent in older records.
	e.str(u.Checksum)
	e.str(string(u.Verify))
	return e.b
}

func decodeUpload(job, key string, v []byte) (task.UploadState, error) {
	d := decoder{b: v}
	u := task.UploadState{Job: job, Key: key}
	u.Dest = d.str()
	u.UploadID = d.str()
	u.PartSize = d.varint()
	u.Size = d.varint()
	u.ModTime = d.time()
	u.ETag = d.str()
	u.Created = d.time()
	n := d.uvarint()
	if n > uint64(len(v)) {
		return u, errCorrupt
	}
	if n > 0 {
		u.Parts = make([]task.PartState, n)
	}
	for i := range u.Parts {
		p := &u.Parts[i]
		p.Number = d.integer()
		p.Size = d.varint()
		p.ETag = d.str()
		p.CRC64 = d.fixed64()
		p.MD5 = d.str()
	}
	if d.more() {
		u.Checksum = d.str()
		u.Verify = task.VerifyMode(d.str())
	}
	return u, d.finish()
}
