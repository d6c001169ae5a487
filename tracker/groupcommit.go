package tracker

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// groupCommit runs the tracker's frequent small writes (reports, shard
// states) in shared transactions, one commit and one fsync for all the
// writes waiting, like bbolt's db.Batch. Under load its rule is
// db.Batch's: a group commits window after its first write, or at once
// when it holds maxCalls. Two cases commit at once instead:
//
//   - a write that finds the tracker quiet (no commit running, none ended
//     within the last window): nobody is likely to join it;
//   - an urgent write (Store.Hurry: the end of a pass, which waits on
//     each write in turn).
//
// db.Batch waits its delay even then: the last report of a pass, then its
// ack, each waited 50 ms for company that never came, which a short run
// paid at its end. Under load nothing changes, which is what keeps a
// master with a thousand workers from writing a commit per report
// (tracker.Open). (A token bucket with a burst of four, tried first, let
// groups commit back to back after every slow fsync: 40% more bytes
// written at 10^7 objects and 1,000 workers, docs/benchmarks.md.)
//
// A write function may run more than once (the group is retried without a
// function that failed, and that one runs alone), so it must only touch
// the transaction, as db.Batch's must.
type groupCommit struct {
	db       *bolt.DB
	window   time.Duration
	maxCalls int

	mu      sync.Mutex
	pending *commitGroup // collecting writes; nil when none waits
	running int          // groups committing now
	lastEnd time.Time    // when the last commit ended
}

func newGroupCommit(db *bolt.DB, window time.Duration, maxCalls int) *groupCommit {
	return &groupCommit{db: db, window: window, maxCalls: maxCalls}
}

type commitGroup struct {
	calls []commitCall
	timer *time.Timer // nil when the group runs at once
	once  sync.Once
}

type commitCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// errAlone asks a call to run in a transaction of its own: it failed in a
// group, maybe because of what another call did there.
var errAlone = errors.New("tracker: run alone")

// do runs fn in a shared read-write transaction and returns once that has
// committed (or fn's error). An urgent call does not wait its turn: its
// group commits at once, with whatever joined it.
func (g *groupCommit) do(fn func(*bolt.Tx) error, urgent bool) error {
	errc := make(chan error, 1)
	g.mu.Lock()
	grp := g.pending
	if grp == nil {
		grp = &commitGroup{}
		g.pending = grp
		quiet := g.running == 0 && time.Since(g.lastEnd) >= g.window
		if !quiet {
			grp.timer = time.AfterFunc(g.window, func() { g.run(grp) })
		}
	}
	grp.calls = append(grp.calls, commitCall{fn: fn, err: errc})
	now := urgent || grp.timer == nil || len(grp.calls) >= g.maxCalls
	g.mu.Unlock()
	if now {
		g.run(grp)
	}
	err := <-errc
	if errors.Is(err, errAlone) {
		err = g.db.Update(func(tx *bolt.Tx) error { return safeCall(fn, tx) })
	}
	return err
}

// run commits grp (once, whoever gets there first: its timer, a call that
// found it full, or the call that started it on an idle tracker).
func (g *groupCommit) run(grp *commitGroup) {
	grp.once.Do(func() {
		g.mu.Lock()
		if grp.timer != nil {
			grp.timer.Stop()
		}
		if g.pending == grp {
			g.pending = nil // later writes start the next group
		}
		g.running++
		g.mu.Unlock()
		commitCalls(g.db, grp.calls)
		g.mu.Lock()
		g.running--
		g.lastEnd = time.Now()
		g.mu.Unlock()
	})
}

// commitCalls runs calls in one transaction. If one fails, the others are
// committed without it and it is told to run alone.
func commitCalls(db *bolt.DB, calls []commitCall) {
	for len(calls) > 0 {
		failed := -1
		err := db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].err <- errAlone
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.err <- err // nil, or the commit's own failure for all
		}
		return
	}
}

// safeCall turns a panic of fn into an error, so that one bad write does
// not take the others (and the master) down with it.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("tracker: write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// Hurry makes the job's shared-commit writes (Report, SetShardState)
// commit at once instead of waiting their turn, until called again with
// false. It is for the end of a pass: there the pass waits on each write
// in turn (the last shard's final report, then its ack), and nothing is
// left to share a commit with, so waiting for company only delays the end.
func (s *Store) Hurry(job string, on bool) {
	if on {
		s.hurry.Store(job, struct{}{})
	} else {
		s.hurry.Delete(job)
	}
}

func (s *Store) hurried(job string) bool {
	_, ok := s.hurry.Load(job)
	return ok
}
