package master

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// shardBuilder accumulates one stream's objects into the next shard.
type shardBuilder struct {
	s     *Scanner
	name  string
	after string // last key listed (checkpoint candidate)
	objs  []task.Object
	early []bool // per objs: before importSince, taken only if rewritten
	bytes int64
	// limit is this shard's object bound: firstShardObjects for a
	// stream's first shard, doubling with each one to ShardObjects.
	limit int
	// inflight: the append of the previous shard, running while the
	// stream lists the next one (nil when none is).
	inflight chan error
}

func (b *shardBuilder) add(ctx context.Context, o storage.ObjectInfo) error {
	s := b.s
	s.Listed.Add(1)
	rel := strings.TrimPrefix(o.Key, s.cfg.SrcPrefix)
	early := false
	if s.cfg.Filter != nil && !s.cfg.Filter.Match(rel, o.ModTime) {
		// Modified before importSince by its mtime, but the mtime may be
		// old while the content is new (a copy onto itself keeps it on
		// some stores): such objects join the batch's manifest lookup and
		// are taken only if the manifest says they changed (flush).
		if early = !s.cfg.Audit && s.cfg.Filter.Early(rel, o.ModTime); !early {
			s.Excluded.Add(1)
			b.after = o.Key
			return nil
		}
	}
	if len(b.objs) > 0 && b.bytes+o.Size > s.cfg.ShardBytes {
		// Flush before taking o: the checkpoint must not cover a key the
		// shard does not hold.
		if err := b.flush(ctx, false); err != nil {
			return err
		}
	}
	b.after = o.Key
	b.objs = append(b.objs, task.Object{
		Key: o.Key, Dest: s.cfg.DestPrefix + rel, Size: o.Size, ModTime: o.ModTime,
		ETag: o.ETag, CRC64: o.CRC64, HasCRC64: o.HasCRC64,
	})
	b.early = append(b.early, early)
	b.bytes += o.Size
	if len(b.objs) >= b.limit {
		return b.flush(ctx, false)
	}
	return nil
}

// firstShardObjects bounds a stream's first shard: one LIST page. Workers
// start copying once it is appended instead of after ten pages (a full
// ShardObjects), which on a small job was most of the time to the first
// PUT; the shards after it double in size up to ShardObjects, so a large
// job has only a few more shards than before.
const firstShardObjects = 1000

func newShardBuilder(s *Scanner, name, after string) *shardBuilder {
	return &shardBuilder{s: s, name: name, after: after, limit: min(firstShardObjects, s.cfg.ShardObjects)}
}

// flush hands the pending objects to an append of their own and goes
// back to listing without waiting for it: the stream's next page is on
// its way while the tracker writes this shard, so a stream stalls on the
// tracker only when the tracker is slower than the listing. Appends of one
// stream stay in order (flush first waits for the previous one), so its
// checkpoint never goes backwards. done marks the stream finished and
// waits for everything to be appended.
func (b *shardBuilder) flush(ctx context.Context, done bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.objs) == 0 && !done {
		return nil
	}
	if err := b.wait(); err != nil {
		return err
	}
	ba := batch{objs: b.objs, early: b.early, cp: tracker.ScanCheckpoint{Stream: b.name, After: b.after, Done: done}}
	b.objs, b.early, b.bytes = nil, nil, 0 // the batch owns them now
	b.limit = min(2*b.limit, b.s.cfg.ShardObjects)
	if done {
		return b.s.appendBatch(ctx, ba)
	}
	ch := make(chan error, 1)
	b.inflight = ch
	go func() { ch <- b.s.appendBatch(ctx, ba) }()
	return nil
}

// wait waits for the append in flight, if any.
func (b *shardBuilder) wait() error {
	if b.inflight == nil {
		return nil
	}
	err := <-b.inflight
	b.inflight = nil
	return err
}

// batch is one shard's worth of a stream's listing and its checkpoint.
type batch struct {
	objs  []task.Object
	early []bool
	cp    tracker.ScanCheckpoint
}

// appendBatch appends the batch's objects as a shard, minus those the manifest
// shows verified in an earlier pass and unchanged since (recorded as
// skipped), together with the checkpoint.
func (s *Scanner) appendBatch(ctx context.Context, b batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var known map[string]tracker.Entry
	if !s.cfg.Audit {
		keys := make([]string, len(b.objs))
		for i, o := range b.objs {
			keys[i] = o.Key
		}
		var err error
		if known, err = s.store.Lookup(s.cfg.Job, keys); err != nil {
			return err
		}
	}
	var (
		todo    []task.Object
		skipped []task.Result
	)
	for i, o := range b.objs {
		if b.early[i] {
			if e, ok := known[o.Key]; ok && rewritten(e, o) {
				s.Rewritten.Add(1)
				todo = append(todo, o)
			} else {
				s.Excluded.Add(1)
			}
			continue
		}
		if e, ok := known[o.Key]; ok && !s.cfg.Complete && unchanged(e, o) && e.Pass < s.cfg.Pass {
			skipped = append(skipped, task.Result{
				Key: o.Key, Dest: o.Dest, Status: task.StatusSkipped, Method: task.MethodManifest,
				Reason: fmt.Sprintf("verified in pass %d (%s); source unchanged", e.Pass, e.Method),
				Size:   o.Size, ModTime: o.ModTime, ETag: o.ETag, DestETag: e.DestETag, CRC64: e.CRC64, HasCRC64: e.HasCRC64,
			})
			continue
		}
		todo = append(todo, o)
	}
	var shards []task.Shard
	if len(todo) > 0 {
		shards = []task.Shard{{Job: s.cfg.Job, Pass: s.cfg.Pass, Objects: todo}}
	}
	ids, err := s.store.AppendShards(s.cfg.Job, s.cfg.Pass, shards, skipped, b.cp)
	if err != nil {
		return err
	}
	if len(ids) > 0 && s.onShard != nil {
		s.onShard(ids)
	}
	return nil
}

// unchanged: the manifest shows this source version proven present at the
// destination (copied and verified, skipped because the destination's CRC64
// matched, or carried over from such a pass). A skip on size and mtime alone
// proves nothing, so such objects are looked at again.
func unchanged(e tracker.Entry, o task.Object) bool {
	proven := e.Status == task.StatusVerified ||
		(e.Status == task.StatusSkipped && (e.Method == task.MethodManifest || e.Method == task.MethodCRC64))
	if !proven {
		return false
	}
	if e.Size != o.Size || !e.ModTime.Equal(o.ModTime) {
		return false
	}
	if e.ETag != "" && o.ETag != "" && !storage.ETagEqual(e.ETag, o.ETag) {
		return false
	}
	return true
}

// rewritten: the manifest has a result for this key from a pass that
// examined it, and the listing now reports a different object (size,
// ETag, CRC64 or mtime; storage.Changed). An object modified before
// importSince is taken on this evidence alone: its mtime says "old", its
// content says otherwise. Delete records describe a destination object,
// not a source version, and prove nothing either way.
func rewritten(e tracker.Entry, o task.Object) bool {
	switch e.Status {
	case task.StatusVerified, task.StatusSkipped, task.StatusFailed:
	default:
		return false
	}
	was := storage.ObjectInfo{Size: e.Size, ModTime: e.ModTime, ETag: e.ETag, CRC64: e.CRC64, HasCRC64: e.HasCRC64}
	now := storage.ObjectInfo{Size: o.Size, ModTime: o.ModTime, ETag: o.ETag, CRC64: o.CRC64, HasCRC64: o.HasCRC64}
	return storage.Changed(was, now) != ""
}
