package snapshot

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// DefaultSourceCache is how many manifest entries a Source remembers from
// its listings (about 100 bytes each plus the key).
const DefaultSourceCache = 1 << 16

// Source is a read-only storage.Backend over one complete snapshot: a
// restore is an ordinary copy job whose source is a Source.
//
// List streams the snapshot's manifest, not a listing of the stored
// copies: only a complete snapshot can be restored, a stray object under
// the prefix is not restored, and the listing carries the manifest's
// CRC64. Keys are relative to the snapshot prefix, so a restore with
// srcPrefix "" puts them straight under its destPrefix. ETag is always "":
// the stored copy's ETag may differ from the source's (multipart shapes,
// server-side copies), and "" means unknown, so nothing compares it.
//
// Stat and Open read the stored copy (prefix+key) from the inner backend
// and describe it with the manifest's ModTime and CRC64, so the copier's
// source check compares the bytes it reads with the manifest: that is what
// makes a restore verified against the manifest. Re-reading a manifest of
// millions of entries per Open is out of the question, so a Source
// remembers the entries its own List passed on, up to a bound (least
// recently used go first). A restore lists and copies keys in order, so in
// one process (ferry run) the entry of an object being copied is almost
// always at hand. When it is not (evicted, or a worker process that never
// listed), Stat and Open return the inner info with ModTime zero, no
// CRC64 and no ETag, i.e. "unknown", which storage.Changed and the
// verifier treat as proving nothing; the listing's entry (task.Object
// CRC64, taken from the manifest) still lets the copier check what it read.
// A stored copy whose size disagrees with its manifest entry fails with
// storage.ErrSizeMismatch: the snapshot is damaged.
type Source struct {
	inner  storage.Backend
	prefix string
	name   string

	mu    sync.Mutex
	limit int
	order *list.List               // of Entry, most recent at the front
	byKey map[string]*list.Element // relative key -> element of order
}

// NewSource returns a read-only backend over the complete snapshot under
// prefix (ending in "/") in inner.
func NewSource(inner storage.Backend, prefix string) *Source {
	return newSource(inner, prefix, DefaultSourceCache)
}

func newSource(inner storage.Backend, prefix string, limit int) *Source {
	return &Source{
		inner:  inner,
		prefix: prefix,
		name:   fmt.Sprintf("snapshot %s of %s", prefix, inner),
		limit:  limit,
		order:  list.New(),
		byKey:  map[string]*list.Element{},
	}
}

var _ storage.Backend = (*Source)(nil)

// String names it "snapshot <prefix> of <inner>".
func (s *Source) String() string { return s.name }

// errStop ends a manifest read early once the listing is past listPrefix.
var errStop = errors.New("listing done")

// List streams the manifest's entries under listPrefix after startAfter
// (both relative to the snapshot). A missing manifest fails with
// ErrIncomplete, naming the manifest key.
func (s *Source) List(ctx context.Context, listPrefix, startAfter string, fn storage.ListFunc) error {
	_, _, err := Load(ctx, s.inner, s.prefix, func(e Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Key <= startAfter || !strings.HasPrefix(e.Key, listPrefix) {
			if e.Key > listPrefix && !strings.HasPrefix(e.Key, listPrefix) {
				return errStop // keys only grow: nothing further matches
			}
			return nil
		}
		s.remember(e)
		return fn(entryInfo(e))
	})
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

func entryInfo(e Entry) storage.ObjectInfo {
	return storage.ObjectInfo{Key: e.Key, Size: e.Size, ModTime: e.ModTime, CRC64: e.CRC64, HasCRC64: e.HasCRC64}
}

// Stat describes the stored copy of key (see Source).
func (s *Source) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	info, err := s.inner.Stat(ctx, s.prefix+key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	return s.describe(key, info)
}

// Open reads the stored copy of key (see Source).
func (s *Source) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	r, info, err := s.inner.Open(ctx, s.prefix+key, offset, length)
	if err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	info, err = s.describe(key, info)
	if err != nil {
		_ = r.Close()
		return nil, storage.ObjectInfo{}, err
	}
	return r, info, nil
}

// describe turns the inner backend's info on the stored copy into the
// snapshot's: relative key, no ETag, and the manifest's ModTime and CRC64
// when the entry is known, else none (unknown).
func (s *Source) describe(key string, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	info.Key = key
	info.ETag = ""
	info.Checksum = "" // the store's checksum of the copy, not the manifest's
	e, ok := s.lookup(key)
	if !ok {
		// The stored copy's own mtime is the time of the backup, not the
		// source's: reporting it would look like a changed object.
		info.ModTime, info.CRC64, info.HasCRC64 = time.Time{}, 0, false
		return info, nil
	}
	if info.Size != e.Size {
		return storage.ObjectInfo{}, &storage.Error{Backend: s.name, Op: "open", Key: key,
			Err: fmt.Errorf("%w: stored copy %s has %d bytes, the manifest says %d: the snapshot is damaged", storage.ErrSizeMismatch, s.prefix+key, info.Size, e.Size)}
	}
	info.ModTime, info.CRC64, info.HasCRC64 = e.ModTime, e.CRC64, e.HasCRC64
	return info, nil
}

// Put refuses: a snapshot source is read-only.
func (s *Source) Put(_ context.Context, key string, _ io.Reader, _ storage.ObjectInfo) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, s.readOnly("put", key)
}

// Delete refuses: a snapshot source is read-only.
func (s *Source) Delete(_ context.Context, key string) error {
	return s.readOnly("delete", key)
}

func (s *Source) readOnly(op, key string) error {
	return &storage.Error{Backend: s.name, Op: op, Key: key,
		Err: fmt.Errorf("%w: a snapshot is read-only when restoring from it", storage.ErrAccessDenied)}
}

// remember caches e, evicting the least recently used entry beyond limit.
func (s *Source) remember(e Entry) {
	if s.limit <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byKey[e.Key]; ok {
		el.Value = e
		s.order.MoveToFront(el)
		return
	}
	s.byKey[e.Key] = s.order.PushFront(e)
	for s.order.Len() > s.limit {
		old := s.order.Back()
		s.order.Remove(old)
		delete(s.byKey, old.Value.(Entry).Key)
	}
}

func (s *Source) lookup(key string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byKey[key]
	if !ok {
		return Entry{}, false
	}
	s.order.MoveToFront(el)
	return el.Value.(Entry), true
}
