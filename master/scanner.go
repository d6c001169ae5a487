package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// ScanStore is what the scanner needs from the tracker.
type ScanStore interface {
	ScanCheckpoints(job string, n uint64) (map[string]tracker.ScanCheckpoint, error)
	AppendShards(job string, n uint64, shards []task.Shard, skipped []task.Result, cp tracker.ScanCheckpoint) ([]uint64, error)
	Lookup(job string, keys []string) (map[string]tracker.Entry, error)
}

// ScanConfig says what to list and how to cut it.
type ScanConfig struct {
	Job        string
	Pass       uint64
	Src        storage.Backend
	SrcPrefix  string
	DestPrefix string
	Filter     *Filter
	// ShardObjects and ShardBytes bound one shard (taskObjectCountLimit,
	// taskObjectSizeLimit); a single object larger than ShardBytes gets a
	// shard of its own. A stream's first shards are smaller
	// (firstShardObjects).
	ShardObjects int
	ShardBytes   int64
	// Threads > 1 lists top-level prefixes in parallel when the source can
	// list one level (storage.LevelLister), or, with SplitRanges, a flat
	// prefix as key ranges (scanner_ranges.go).
	Threads int
	// SplitRanges lets a flat prefix be split into key ranges found by
	// sampling the listing with start-after probes. Meant for sources where
	// a LIST page is a request with a round trip (object stores); a local
	// directory would be read again for every probe and every range.
	SplitRanges bool
	// ProbePage is the source's LIST page size: a sampling probe reads
	// this many keys (one request), and a full page means there are more.
	// 0 means 1000, the S3 and OSS default.
	ProbePage int
	// Audit: every object in scope is compared, so none is skipped for
	// being verified and unchanged in the manifest.
	Audit bool
	// Complete: every object in scope is written in this pass, under a
	// destination prefix of its own (a snapshot), so none is skipped for
	// being verified and unchanged in the manifest.
	Complete bool
}

// Stream names in scan checkpoints. One stream for a plain listing; with
// parallel scanning, one for the objects directly under the prefix and one
// per sub-prefix. The names make a resumed scan use the same layout as the
// interrupted one, whatever the thread count is now.
const (
	streamAll   = "all"
	streamLevel = "level"
	streamDir   = "dir:"
)

// Scanner streams a source listing into shards in the tracker. Memory is
// two shards per stream in flight (one being listed, one being appended),
// whatever the object count. Every shard is
// appended together with its stream's checkpoint (the last key it holds),
// so a killed scan resumes after the last appended shard: nothing sharded
// twice, nothing missed.
type Scanner struct {
	cfg     ScanConfig
	store   ScanStore
	onShard func(ids []uint64) // shards appended: hand them to the broker
	log     *slog.Logger

	Listed   atomic.Int64 // objects seen in the listing
	Excluded atomic.Int64 // dropped by Filter
	// Rewritten: objects before importSince taken because the manifest
	// shows them changed (rewritten in place with an old mtime).
	Rewritten atomic.Int64
}

// NewScanner makes a scanner; onShard is called after each append, from
// several goroutines at once when streams run in parallel.
func NewScanner(cfg ScanConfig, store ScanStore, onShard func([]uint64), log *slog.Logger) *Scanner {
	if cfg.ShardObjects <= 0 {
		cfg.ShardObjects = 10000
	}
	if cfg.ShardBytes <= 0 {
		cfg.ShardBytes = 1 << 30
	}
	if cfg.ProbePage <= 0 {
		cfg.ProbePage = 1000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scanner{cfg: cfg, store: store, onShard: onShard, log: log}
}

// Run scans until the listing is exhausted, ctx ends, or an error.
func (s *Scanner) Run(ctx context.Context) error {
	cps, err := s.store.ScanCheckpoints(s.cfg.Job, s.cfg.Pass)
	if err != nil {
		return err
	}
	rs, err := recordedRanges(cps)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", s.cfg.Src, err)
	}
	if len(rs) > 0 {
		return s.scanRanges(ctx, rs, cps)
	}
	_, single := cps[streamAll]
	ll, canLevel := s.cfg.Src.(storage.LevelLister)
	prefixOK := s.cfg.SrcPrefix == "" || strings.HasSuffix(s.cfg.SrcPrefix, "/")
	if len(cps) == 0 && s.cfg.Threads > 1 && s.cfg.SplitRanges {
		rs, err := s.planRanges(ctx, canLevel && prefixOK)
		if err != nil {
			return err
		}
		if len(rs) > 0 {
			return s.scanRanges(ctx, rs, nil)
		}
	}
	parallel := !single && canLevel && prefixOK && (s.cfg.Threads > 1 || len(cps) > 0)
	if !parallel {
		return s.stream(ctx, streamAll, cps[streamAll], func(after string, fn storage.ListFunc) error {
			return s.cfg.Src.List(ctx, s.cfg.SrcPrefix, after, fn)
		})
	}
	err = s.scanParallel(ctx, ll, cps)
	if errors.Is(err, errors.ErrUnsupported) && len(cps) == 0 {
		return s.stream(ctx, streamAll, tracker.ScanCheckpoint{}, func(after string, fn storage.ListFunc) error {
			return s.cfg.Src.List(ctx, s.cfg.SrcPrefix, after, fn)
		})
	}
	return err
}

// scanParallel lists the top level once (its direct objects form one
// stream), then lists each sub-prefix as its own stream, Threads at a time.
func (s *Scanner) scanParallel(ctx context.Context, ll storage.LevelLister, cps map[string]tracker.ScanCheckpoint) error {
	var dirs []string
	collect := func(d string) error {
		dirs = append(dirs, d)
		return nil
	}
	levelCP := cps[streamLevel]
	var err error
	if levelCP.Done {
		// The top level's objects are sharded, but its sub-prefixes are
		// not recorded anywhere: list the level again to find them.
		err = ll.ListLevel(ctx, s.cfg.SrcPrefix, func(storage.ObjectInfo) error { return nil }, collect)
		if err != nil {
			err = fmt.Errorf("scanning %s (stream %q): %w", s.cfg.Src, streamLevel, err)
		}
	} else {
		err = s.stream(ctx, streamLevel, levelCP, func(after string, fn storage.ListFunc) error {
			return ll.ListLevel(ctx, s.cfg.SrcPrefix, func(o storage.ObjectInfo) error {
				if after != "" && o.Key <= after {
					return nil // sharded before the restart
				}
				return fn(o)
			}, collect)
		})
	}
	if err != nil {
		return err
	}
	s.log.Info("scan: top level listed", "prefixes", len(dirs))
	streams := make([]listStream, len(dirs))
	for i, d := range dirs {
		streams[i] = listStream{name: streamDir + d, list: func(ctx context.Context, after string, fn storage.ListFunc) error {
			return s.cfg.Src.List(ctx, d, after, fn)
		}}
	}
	return s.runStreams(ctx, streams, cps)
}

// listStream is one listing stream of a parallel scan: its checkpoint's
// name and how to list it after a key.
type listStream struct {
	name string
	list func(ctx context.Context, after string, fn storage.ListFunc) error
}

// runStreams lists the streams not done yet, Threads at a time; the
// first error stops the others and is returned.
func (s *Scanner) runStreams(ctx context.Context, streams []listStream, cps map[string]tracker.ScanCheckpoint) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(1, s.cfg.Threads))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for _, st := range streams {
		cp := cps[st.name]
		if cp.Done {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := s.stream(ctx, st.name, cp, func(after string, fn storage.ListFunc) error {
				return st.list(ctx, after, fn)
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// stream lists one stream from its checkpoint, cutting shards.
func (s *Scanner) stream(ctx context.Context, name string, cp tracker.ScanCheckpoint, list func(after string, fn storage.ListFunc) error) error {
	if cp.Done {
		return nil
	}
	b := newShardBuilder(s, name, cp.After)
	err := list(cp.After, func(o storage.ObjectInfo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return b.add(ctx, o)
	})
	if err != nil {
		_ = b.wait() // nothing left running; the listing's error says it all
		return fmt.Errorf("scanning %s (stream %q): %w", s.cfg.Src, name, err)
	}
	if err := b.flush(ctx, true); err != nil {
		return fmt.Errorf("scanning %s (stream %q): %w", s.cfg.Src, name, err)
	}
	return nil
}
