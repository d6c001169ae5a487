package httplist

import (
	"context"
	"strings"
	"sync"

	"github.com/ferry-migrate/ferry/storage"
)

// List streams the spool from the first key after startAfter that starts
// with prefix. Each object is HEADed (ListConcurrency at a time, results
// delivered in key order) so the listing carries Size, ModTime and the
// validators, as Backend.List promises and as the scanner needs for shard
// sizes and change detection. An object whose HEAD fails is still listed,
// with what is unknown left zero: the copy reports its error (a 404 or
// 403 is the object's failure, not the listing's).
func (b *Backend) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	if err := ctx.Err(); err != nil {
		return b.err("list", "", err)
	}
	path, err := b.spoolPath(ctx)
	if err != nil {
		return b.err("list", "", err)
	}
	s, err := openSpool(path)
	if err != nil {
		return b.err("list", "", err)
	}
	defer s.Close()
	off, err := s.search(func(k string) bool { return k > startAfter && k >= prefix })
	if err != nil {
		return b.err("list", "", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type pending struct {
		key, url string
		info     storage.ObjectInfo
		err      error
		done     chan struct{}
	}
	order := make(chan *pending, b.o.ListConcurrency)
	work := make(chan *pending, b.o.ListConcurrency)
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(work)
		r := s.scanner(off)
		for {
			key, u, ok, err := nextRecord(r)
			if err != nil || !ok || !strings.HasPrefix(key, prefix) {
				readErr <- err
				return
			}
			p := &pending{key: key, url: u, done: make(chan struct{})}
			select {
			case order <- p:
			case <-ctx.Done():
				readErr <- nil
				return
			}
			work <- p // never blocks for long: workers drain it until ctx ends
		}
	}()
	var wg sync.WaitGroup
	for range b.o.ListConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				p.info, p.err = b.head(ctx, p.key, p.url)
				close(p.done)
			}
		}()
	}
	defer wg.Wait()
	for p := range order {
		<-p.done
		if p.err != nil {
			if ctx.Err() != nil {
				return b.err("list", "", ctx.Err())
			}
			p.info = storage.ObjectInfo{Key: p.key}
		}
		if ctx.Err() != nil {
			// Cancelled while this object's HEAD was in flight: nothing
			// more is handed on, as the List contract asks.
			return b.err("list", "", ctx.Err())
		}
		if err := fn(p.info); err != nil {
			cancel()
			for range order { // let the reader and the workers finish
			}
			return err
		}
	}
	if err := <-readErr; err != nil {
		return b.err("list", "", err)
	}
	if err := ctx.Err(); err != nil {
		return b.err("list", "", err)
	}
	return nil
}
