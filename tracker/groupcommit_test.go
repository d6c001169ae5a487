package tracker

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func testGroupCommit(t *testing.T, window time.Duration, maxCalls int) *groupCommit {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	}))
	return newGroupCommit(db, window, maxCalls)
}

// put is a write of key=val that records the transaction it ran in.
func put(key string, txid *int) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		*txid = tx.ID()
		return tx.Bucket([]byte("b")).Put([]byte(key), []byte("v"))
	}
}

func has(t *testing.T, g *groupCommit, key string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, g.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket([]byte("b")).Get([]byte(key)) != nil
		return nil
	}))
	return ok
}

// within runs f and fails the test if it has not returned after limit:
// a write that waited for a window it should not have waited for.
func within(t *testing.T, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still waiting after %s", limit)
	}
}

// concurrently runs n writes at once and returns their tx ids and errors.
func concurrently(g *groupCommit, n int, fn func(i int, txid *int) func(*bolt.Tx) error) ([]int, []error) {
	ids, errs := make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = g.do(fn(i, &ids[i]), false) })
	}
	wg.Wait()
	return ids, errs
}

// busy makes one write: from then on (for a window) the tracker is busy
// and writes wait to share a commit. It returns the write's tx id.
func busy(t *testing.T, g *groupCommit) int {
	t.Helper()
	var id int
	require.NoError(t, g.do(put("first", &id), false))
	return id
}

// TestGroupCommitQuietWriteDoesNotWait: on a quiet tracker a write
// commits at once, however long the window; right after it, a write
// waits for company (db.Batch's rule, under load).
func TestGroupCommitQuietWriteDoesNotWait(t *testing.T) {
	g := testGroupCommit(t, time.Hour, 1000)
	within(t, 10*time.Second, func() { busy(t, g) })
	assert.True(t, has(t, g, "first"))

	done := make(chan struct{})
	var id int
	go func() {
		defer close(done)
		assert.NoError(t, g.do(put("second", &id), false))
	}()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.pending != nil && len(g.pending.calls) == 1
	}, 5*time.Second, time.Millisecond, "the second write waits for its group")
	select {
	case <-done:
		t.Fatal("a write right after a commit did not wait for company")
	default:
	}
	g.mu.Lock()
	grp := g.pending
	g.mu.Unlock()
	g.run(grp) // end the wait (an hour) instead of the timer
	<-done
	assert.True(t, has(t, g, "second"))
}

// TestGroupCommitSharesACommitWhenBusy: writes that come within a window
// of the last commit wait for the window's end and share one commit.
func TestGroupCommitSharesACommitWhenBusy(t *testing.T) {
	const window = 200 * time.Millisecond
	g := testGroupCommit(t, window, 1000)
	start := time.Now()
	first := busy(t, g)

	ids, errs := concurrently(g, 10, func(i int, txid *int) func(*bolt.Tx) error { return put(fmt.Sprint("k", i), txid) })
	assert.GreaterOrEqual(t, time.Since(start), window, "they waited for the window")
	for i := range 10 {
		require.NoError(t, errs[i])
		assert.Equal(t, ids[0], ids[i], "write %d shared the group's transaction", i)
		assert.True(t, has(t, g, fmt.Sprint("k", i)))
	}
	assert.NotEqual(t, first, ids[0])
}

// TestGroupCommitFullGroupDoesNotWait: a group that reaches maxCalls
// commits without waiting for the rest of its window.
func TestGroupCommitFullGroupDoesNotWait(t *testing.T) {
	g := testGroupCommit(t, time.Hour, 3)
	busy(t, g)
	within(t, 10*time.Second, func() {
		_, errs := concurrently(g, 3, func(i int, txid *int) func(*bolt.Tx) error { return put(fmt.Sprint("k", i), txid) })
		for _, err := range errs {
			require.NoError(t, err)
		}
	})
}

// TestGroupCommitOneFailureSparesTheOthers: a write that fails (or panics)
// in a group gets its own error and leaves nothing; the others commit.
func TestGroupCommitOneFailureSparesTheOthers(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func(tx *bolt.Tx) error
		want string
	}{
		{"error", func(tx *bolt.Tx) error {
			_ = tx.Bucket([]byte("b")).Put([]byte("bad"), []byte("v"))
			return errors.New("no good")
		}, "no good"},
		{"panic", func(tx *bolt.Tx) error {
			_ = tx.Bucket([]byte("b")).Put([]byte("bad"), []byte("v"))
			panic("broken")
		}, "panicked: broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGroupCommit(t, 100*time.Millisecond, 1000)
			busy(t, g) // the next ones group
			_, errs := concurrently(g, 5, func(i int, txid *int) func(*bolt.Tx) error {
				if i == 2 {
					return tc.bad
				}
				return put(fmt.Sprint("k", i), txid)
			})
			for i, err := range errs {
				if i == 2 {
					assert.ErrorContains(t, err, tc.want)
					assert.NotErrorIs(t, err, errAlone)
					continue
				}
				require.NoError(t, err, "write %d", i)
				assert.True(t, has(t, g, fmt.Sprint("k", i)))
			}
			assert.False(t, has(t, g, "bad"), "the failed write left nothing")
		})
	}
}

// TestGroupCommitUrgentWriteGoesAtOnce: an urgent write does not wait its
// turn, and takes the writes waiting in its group along in its commit.
func TestGroupCommitUrgentWriteGoesAtOnce(t *testing.T) {
	g := testGroupCommit(t, time.Hour, 1000)
	busy(t, g)
	var waiting, urgent int
	waited := make(chan error, 1)
	go func() { waited <- g.do(put("waiting", &waiting), false) }()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.pending != nil && len(g.pending.calls) == 1
	}, 5*time.Second, time.Millisecond, "the first write waits for its turn")
	within(t, 10*time.Second, func() {
		require.NoError(t, g.do(put("urgent", &urgent), true))
		require.NoError(t, <-waited)
	})
	assert.Equal(t, waiting, urgent, "one commit for both")
	assert.True(t, has(t, g, "waiting"))
	assert.True(t, has(t, g, "urgent"))
}

// TestStoreHurry: a hurried job's writes are urgent until it is let go;
// other jobs' are not.
func TestStoreHurry(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	assert.False(t, s.hurried("a"))
	s.Hurry("a", true)
	assert.True(t, s.hurried("a"))
	assert.False(t, s.hurried("b"))
	s.Hurry("a", false)
	assert.False(t, s.hurried("a"))
}
