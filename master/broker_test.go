package master

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The grant order is spread over the key space (spread_test.go); here only
// exclusivity matters.
func TestBrokerLeaseIsExclusive(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	b.Add(1, 2, 3, 2) // duplicate add ignored
	g, _ := b.Lease("w1", 2, t0)
	require.Len(t, g, 2)
	assert.ElementsMatch(t, []uint64{1, 3}, []uint64{g[0].Shard, g[1].Shard}, "first and last: far apart")
	assert.Equal(t, t0.Add(time.Minute), g[0].Deadline)
	assert.Equal(t, 1, g[0].Attempt)
	b.Add(1) // already leased: not queued again
	g2, _ := b.Lease("w2", 5, t0)
	require.Len(t, g2, 1)
	assert.Equal(t, uint64(2), g2[0].Shard)
	assert.Equal(t, 0, b.Pending())
	assert.Equal(t, 3, b.Busy())
	assert.NotEqual(t, g[0].Token, g2[0].Token)
}

func TestBrokerExpiryRequeuesAndFencesTheOldHolder(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	b.Add(7)
	g, _ := b.Lease("dead", 1, t0)
	// Just before the deadline: still held.
	assert.Empty(t, b.Renew("dead", []uint64{g[0].Token}, t0.Add(59*time.Second)))
	// The renewal moved the deadline; now the worker goes silent.
	later := t0.Add(59*time.Second + time.Minute + time.Second)
	g2, failed := b.Lease("alive", 1, later)
	assert.Empty(t, failed)
	require.Len(t, g2, 1, "expired lease goes to the next asker")
	assert.Equal(t, uint64(7), g2[0].Shard)
	assert.Equal(t, 2, g2[0].Attempt)

	// The presumed-dead worker comes back: fenced everywhere.
	assert.Equal(t, []uint64{g[0].Token}, b.Renew("dead", []uint64{g[0].Token}, later))
	_, err := b.Ack(g[0].Token, later)
	assert.ErrorIs(t, err, ErrStale)
	_, _, err = b.Nack(g[0].Token, later)
	assert.ErrorIs(t, err, ErrStale)
	// The new holder is unaffected.
	shard, err := b.Ack(g2[0].Token, later)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), shard)
	assert.True(t, b.Idle())
}

func TestBrokerDuplicateAckIsHarmless(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	b.Add(1)
	g, _ := b.Lease("w", 1, t0)
	_, err := b.Ack(g[0].Token, t0)
	require.NoError(t, err)
	_, err = b.Ack(g[0].Token, t0)
	assert.ErrorIs(t, err, ErrStale, "second ack refused, state unchanged")
	assert.True(t, b.Idle())
}

func TestBrokerAckAfterDeadlineIsRefused(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	b.Add(1)
	g, _ := b.Lease("w", 1, t0)
	_, err := b.Ack(g[0].Token, t0.Add(2*time.Minute))
	assert.ErrorIs(t, err, ErrStale)
	assert.Equal(t, 1, b.Pending(), "the late ack reclaimed the lease; the shard is queued again")
}

func TestBrokerRenewOnlyOwnLeases(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	b.Add(1)
	g, _ := b.Lease("w1", 1, t0)
	assert.Equal(t, []uint64{g[0].Token, 999}, b.Renew("w2", []uint64{g[0].Token, 999}, t0))
}

func TestBrokerNackLimit(t *testing.T) {
	cases := []struct {
		maxNacks   int
		failsAfter int
	}{{1, 1}, {3, 3}}
	for _, tc := range cases {
		b := NewBroker(time.Minute, tc.maxNacks)
		b.Add(5)
		for i := 1; i <= tc.failsAfter; i++ {
			g, _ := b.Lease("w", 1, t0)
			require.Len(t, g, 1, "attempt %d", i)
			assert.Equal(t, i, g[0].Attempt)
			shard, failed, err := b.Nack(g[0].Token, t0)
			require.NoError(t, err)
			assert.Equal(t, uint64(5), shard)
			assert.Equal(t, i == tc.failsAfter, failed, "attempt %d of %d", i, tc.failsAfter)
		}
		assert.True(t, b.Idle(), "a failed shard leaves the broker")
	}
}

func TestBrokerExpiryLimitFailsAPoisonShard(t *testing.T) {
	b := NewBroker(time.Second, 1)
	b.Add(9)
	now := t0
	var failed []uint64
	for i := 0; i < 100 && len(failed) == 0; i++ {
		b.Lease("w", 1, now)
		now = now.Add(2 * time.Second)
		failed = b.Expire(now)
	}
	assert.Equal(t, []uint64{9}, failed, "a shard whose workers keep dying is eventually failed")
	assert.Equal(t, b.maxExpiries, b.expiries[9])
	assert.Greater(t, b.maxExpiries, 3, "dying workers are tolerated far more than explicit nacks")
}

func TestBrokerSharedTokens(t *testing.T) {
	var n uint64 = 1 << 40
	next := func() uint64 { n++; return n }
	a, b := NewBroker(time.Minute, 3), NewBroker(time.Minute, 3)
	a.SetTokens(next)
	b.SetTokens(next)
	a.Add(1)
	b.Add(1)
	ga, _ := a.Lease("w", 1, t0)
	gb, _ := b.Lease("w", 1, t0)
	assert.NotEqual(t, ga[0].Token, gb[0].Token, "two jobs' shard 1 get different tokens")
	assert.Greater(t, ga[0].Token, uint64(1<<40))
}

func TestBrokerReleaseWorkerRequeuesBeforeTheDeadline(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	b.Add(1, 2, 3)
	dead, _ := b.Lease("dead", 2, t0)
	alive, _ := b.Lease("alive", 1, t0)
	released, failed := b.ReleaseWorker("dead")
	assert.Equal(t, []uint64{dead[0].Shard, dead[1].Shard}, released)
	assert.Empty(t, failed)
	assert.Equal(t, 2, b.Pending())
	// Long before the TTL, the living get the dead worker's shards.
	g, _ := b.Lease("alive", 5, t0.Add(time.Second))
	require.Len(t, g, 2)
	assert.ElementsMatch(t, released, []uint64{g[0].Shard, g[1].Shard})
	assert.Equal(t, 2, g[0].Attempt)
	// The dead worker's tokens are stale; the other worker's lease is untouched.
	_, err := b.Ack(dead[0].Token, t0.Add(time.Second))
	assert.ErrorIs(t, err, ErrStale)
	assert.Equal(t, []uint64{dead[1].Token}, b.Renew("dead", []uint64{dead[1].Token}, t0.Add(time.Second)))
	_, err = b.Ack(alive[0].Token, t0.Add(time.Second))
	require.NoError(t, err)
	released, _ = b.ReleaseWorker("nobody")
	assert.Empty(t, released)
}

func TestBrokerReleaseWorkerCountsAsExpiry(t *testing.T) {
	b := NewBroker(time.Minute, 1)
	b.Add(9)
	var failed []uint64
	for i := 0; i < 100 && len(failed) == 0; i++ {
		b.Lease("w", 1, t0)
		_, failed = b.ReleaseWorker("w")
	}
	assert.Equal(t, []uint64{9}, failed, "a shard that kills every worker still fails in the end")
	assert.True(t, b.Idle())
}

func TestBrokerReleaseAll(t *testing.T) {
	b := NewBroker(time.Minute, 1)
	b.Add(1, 2)
	g, _ := b.Lease("w", 2, t0)
	assert.ElementsMatch(t, []uint64{1, 2}, b.ReleaseAll())
	assert.Equal(t, 0, b.Busy())
	assert.Equal(t, 2, b.Pending())
	_, err := b.Ack(g[0].Token, t0)
	assert.ErrorIs(t, err, ErrStale)
	assert.Zero(t, b.expiries[1], "a cancel is nobody's failure")
}
