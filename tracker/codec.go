package tracker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// The value encodings. Hand-rolled rather than gob or JSON because a
// shard of 10,000 objects is encoded on every scan batch and decoded on
// every lease: uvarints and length-prefixed strings keep it small and
// allocation-light. Field order is the format; change it only with a
// SchemaVersion bump.

var errCorrupt = errors.New("corrupt record")

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) fixed64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) byte1(v byte)     { e.b = append(e.b, v) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) boolean(v bool) {
	if v {
		e.byte1(1)
	} else {
		e.byte1(0)
	}
}

// time is a presence byte, then Unix seconds and nanoseconds. Zero times
// are common (unfinished pass, no checkpoint) and cost one byte.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.byte1(0)
		return
	}
	e.byte1(1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

// decoder reads what encoder wrote. The first error sticks; later reads
// return zero values, so callers check err once at the end. Strings are
// copied out: bbolt values are only valid inside their transaction.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) fixed64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string   { return string(d.bytes()) }
func (d *decoder) boolean() bool { return d.byte1() != 0 }
func (d *decoder) integer() int  { return int(d.varint()) }

// more reports whether bytes are left: optional trailing fields.
func (d *decoder) more() bool { return d.err == nil && len(d.b) != 0 }

// finish reports the first error, or trailing bytes (a record written by
// a different layout).
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return d.err
}

func (d *decoder) time() time.Time {
	if d.byte1() == 0 {
		return time.Time{}
	}
	s := d.varint()
	ns := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}

// --- jobs and passes ---

func encodeJob(j Job) []byte {
	var e encoder
	e.str(j.Config)
	e.str(j.Source)
	e.str(j.Dest)
	e.time(j.Created)
	e.str(string(j.State))
	e.uvarint(j.Pass)
	e.time(j.Checkpoint)
	// Fields added later go last, written only when set.
	if j.WriteRace != "" {
		e.str(j.WriteRace)
	}
	return e.b
}

func decodeJob(name string, v []byte) (Job, error) {
	d := decoder{b: v}
	j := Job{Name: name}
	j.Config = d.str()
	j.Source = d.str()
	j.Dest = d.str()
	j.Created = d.time()
	j.State = JobState(d.str())
	j.Pass = d.uvarint()
	j.Checkpoint = d.time()
	if d.more() {
		j.WriteRace = d.str()
	}
	return j, d.finish()
}

func encodePass(p Pass) []byte {
	var e encoder
	e.time(p.Started)
	e.time(p.Finished)
	e.boolean(p.ScanFinished)
	c := &p.Counters
	for _, v := range []int64{c.Scanned, c.ScannedBytes, c.Verified, c.VerifiedBytes,
		c.Skipped, c.SkippedBytes, c.Failed, c.FailedBytes, c.BytesRead, c.BytesSent,
		c.Shards, c.ShardsDone, c.ShardsFailed} {
		e.varint(v)
	}
	// Sorted so equal counters encode to equal bytes.
	methods := make([]string, 0, len(c.Methods))
	for m := range c.Methods {
		methods = append(methods, string(m))
	}
	sort.Strings(methods)
	e.uvarint(uint64(len(methods)))
	for _, m := range methods {
		e.str(m)
		e.varint(c.Methods[task.Method(m)])
	}
	// Fields added later go last: a record written before them decodes
	// with zeros.
	e.varint(c.DestOnly)
	e.varint(c.Deleted)
	e.varint(c.WouldDelete)
	e.str(p.Problem)
	for _, v := range []int64{c.Identical, c.IdenticalBytes, c.Kept, c.KeptBytes} {
		e.varint(v)
	}
	e.varint(p.SkippedRuns)
	e.varint(c.ServerCopied)
	e.varint(c.ServerCopiedBytes)
	encodeSnapshot(&e, p.Snapshot)
	return e.b
}

func encodeSnapshot(e *encoder, sn Snapshot) {
	e.str(sn.Prefix)
	e.uvarint(sn.Base)
	e.str(sn.BasePrefix)
	e.time(sn.Complete)
	e.varint(sn.Objects)
	e.varint(sn.Bytes)
	e.time(sn.Removed)
	e.boolean(sn.Removing)
	e.str(sn.Why)
}

func decodePass(job string, n uint64, v []byte) (Pass, error) {
	d := decoder{b: v}
	p := Pass{Job: job, N: n}
	p.Started = d.time()
	p.Finished = d.time()
	p.ScanFinished = d.boolean()
	c := &p.Counters
	for _, f := range []*int64{&c.Scanned, &c.ScannedBytes, &c.Verified, &c.VerifiedBytes,
		&c.Skipped, &c.SkippedBytes, &c.Failed, &c.FailedBytes, &c.BytesRead, &c.BytesSent,
		&c.Shards, &c.ShardsDone, &c.ShardsFailed} {
		*f = d.varint()
	}
	nm := d.uvarint()
	if nm > uint64(len(v)) { // each method takes at least two bytes
		return p, errCorrupt
	}
	if nm > 0 && d.err == nil {
		c.Methods = make(map[task.Method]int64, nm)
		for i := uint64(0); i < nm && d.err == nil; i++ {
			m := task.Method(d.str())
			c.Methods[m] = d.varint()
		}
	}
	if d.more() {
		c.DestOnly = d.varint()
	}
	if d.more() {
		c.Deleted = d.varint()
		c.WouldDelete = d.varint()
		p.Problem = d.str()
	}
	if d.more() {
		for _, f := range []*int64{&c.Identical, &c.IdenticalBytes, &c.Kept, &c.KeptBytes} {
			*f = d.varint()
		}
	}
	if d.more() {
		p.SkippedRuns = d.varint()
	}
	if d.more() {
		c.ServerCopied = d.varint()
		c.ServerCopiedBytes = d.varint()
		sn := &p.Snapshot
		sn.Prefix = d.str()
		sn.Base = d.uvarint()
		sn.BasePrefix = d.str()
		sn.Complete = d.time()
		sn.Objects = d.varint()
		sn.Bytes = d.varint()
		sn.Removed = d.time()
		sn.Removing = d.boolean()
		sn.Why = d.str()
	}
	return p, d.finish()
}
