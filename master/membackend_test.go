package master

import (
	"context"
	"errors"
	"io"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// memList is a read-only source serving a sorted key listing from memory
// in pages, as an object store does: each page is one LIST request, and
// costs pageDelay (benchmarks only: the simulated round trip of a WAN
// link). Nothing but List works.
type memList struct {
	keys      []string // sorted, unique
	page      int
	pageDelay time.Duration
	pages     atomic.Int64 // LIST requests served
}

var errReadOnly = errors.New("memList: listing only")

func (m *memList) String() string { return "memory listing" }

func (m *memList) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	i := sort.Search(len(m.keys), func(i int) bool { return m.keys[i] > startAfter && m.keys[i] >= prefix })
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.pages.Add(1)
		if m.pageDelay > 0 {
			t := time.NewTimer(m.pageDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		end := min(i+m.page, len(m.keys))
		for ; i < end; i++ {
			k := m.keys[i]
			if len(k) < len(prefix) || k[:len(prefix)] != prefix {
				return nil
			}
			if err := fn(storage.ObjectInfo{Key: k, Size: 1}); err != nil {
				return err
			}
		}
		if i >= len(m.keys) {
			return nil
		}
	}
}

func (m *memList) Stat(context.Context, string) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, errReadOnly
}

func (m *memList) Open(context.Context, string, int64, int64) (io.ReadCloser, storage.ObjectInfo, error) {
	return nil, storage.ObjectInfo{}, errReadOnly
}

func (m *memList) Put(context.Context, string, io.Reader, storage.ObjectInfo) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, errReadOnly
}

func (m *memList) Delete(context.Context, string) error { return errReadOnly }
