package master

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func addRange(b *Broker, from, to uint64) {
	for id := from; id <= to; id++ {
		b.Add(id)
	}
}

func minGap(ids []uint64) uint64 {
	s := slices.Clone(ids)
	slices.Sort(s)
	gap := ^uint64(0)
	for i := 1; i < len(s); i++ {
		gap = min(gap, s[i]-s[i-1])
	}
	return gap
}

// The first k grants from a queue of n shards are pairwise far apart in
// id: concurrent leases sit in distant key ranges. The golden sequence
// guarantees more than n/(φ²k) ≈ 0.38n/k; for the sizes here it gives at
// least n/(2k) except at k = 1,000 (0.46n/k).
func TestBrokerFirstGrantsAreSpreadOverTheKeySpace(t *testing.T) {
	for _, tc := range []struct {
		n, k int
		want float64 // minimum gap, in units of n/k
	}{
		{64, 8, 0.5}, {64, 5, 0.5}, {1000, 16, 0.5}, {1000, 64, 0.5},
		{100_000, 100, 0.5}, {100_000, 1000, 0.38}, {10, 10, 0.5},
	} {
		b := NewBroker(time.Minute, 3)
		addRange(b, 1, uint64(tc.n))
		var ids []uint64
		for range tc.k {
			g, _ := b.Lease("w", 1, t0)
			require.Len(t, g, 1)
			ids = append(ids, g[0].Shard)
		}
		want := uint64(max(1, tc.want*float64(tc.n)/float64(tc.k)))
		assert.GreaterOrEqual(t, minGap(ids), want, "n=%d k=%d", tc.n, tc.k)
	}
}

// While shards come and go, the shards leased at any moment stay spread:
// 8 workers over 64 shards, each finishing a shard (at random) and taking
// the next; the 8 leased shards, mapped to 8 key ranges of 8 shards, touch
// most of them (in key order they touch one or two).
func TestBrokerConcurrentLeasesStaySpreadInSteadyState(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	addRange(b, 0, 63)
	var held []Lease
	for range 8 {
		g, _ := b.Lease("w", 1, t0)
		held = append(held, g...)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	worst, sum, samples := 8, 0, 0
	for b.Pending() > 16 { // the tail has too few shards left to spread
		buckets := map[uint64]bool{}
		for _, l := range held {
			buckets[l.Shard/8] = true
		}
		worst, sum, samples = min(worst, len(buckets)), sum+len(buckets), samples+1
		i := rnd.IntN(len(held))
		_, err := b.Ack(held[i].Token, t0)
		require.NoError(t, err)
		g, _ := b.Lease("w", 1, t0)
		require.Len(t, g, 1)
		held[i] = g[0]
	}
	t.Logf("distinct ranges touched: worst %d, mean %.1f", worst, float64(sum)/float64(samples))
	assert.GreaterOrEqual(t, worst, 4)
	assert.GreaterOrEqual(t, float64(sum)/float64(samples), 5.5)
}

// A shard the scan appends late (at the top of the key range) is granted
// after its fair share of the shards queued before it, never last: no rank
// is favoured or left to the end.
func TestBrokerLateShardIsNotLeftToTheEnd(t *testing.T) {
	sum, cases := 0.0, 0
	for _, n := range []int{64, 100, 256, 1000, 4096} {
		for _, before := range []int{0, 8, 37} {
			b := NewBroker(time.Minute, 3)
			addRange(b, 1, uint64(n))
			for range before {
				g, _ := b.Lease("w", 1, t0)
				_, err := b.Ack(g[0].Token, t0)
				require.NoError(t, err)
			}
			b.Add(1 << 40)
			older := b.Pending() - 1
			for i := 1; ; i++ {
				g, _ := b.Lease("w", 1, t0)
				require.Len(t, g, 1)
				_, err := b.Ack(g[0].Token, t0)
				require.NoError(t, err)
				if g[0].Shard == 1<<40 {
					assert.LessOrEqual(t, i, older, "n=%d: not the last", n)
					sum += float64(i) / float64(older+1)
					cases++
					break
				}
			}
		}
	}
	mean := sum / float64(cases)
	t.Logf("a late shard waits on average %.2f of the queue before it (key order: 1.00)", mean)
	assert.Less(t, mean, 0.7)
}

// While the scan feeds shards (4 every round of 8 grants), the shards it
// appends wait less than in key order, where each waits for the whole
// queue before it.
func TestBrokerShardsFedDuringTheScanAreGrantedPromptly(t *testing.T) {
	b := NewBroker(time.Minute, 3)
	addRange(b, 1, 64)
	next := uint64(65)
	appended := map[uint64]int{} // shard -> grants so far when appended
	fifo := map[uint64]int{}     // shard -> its wait in key order: the queue ahead
	var waited, fifoWaited, grants int
	for b.Pending() > 0 {
		for range 8 {
			g, _ := b.Lease("w", 1, t0)
			if len(g) == 0 {
				break
			}
			grants++
			if at, ok := appended[g[0].Shard]; ok {
				waited += grants - at
				fifoWaited += fifo[g[0].Shard]
			}
			_, err := b.Ack(g[0].Token, t0)
			require.NoError(t, err)
		}
		if next <= 64+4*12 {
			for range 4 {
				fifo[next] = b.Pending() + 1
				appended[next] = grants
				b.Add(next)
				next++
			}
		}
	}
	t.Logf("shards appended during the scan waited %d grants in all; in key order %d", waited, fifoWaited)
	assert.Less(t, waited, fifoWaited*3/4)
}

// Every queued shard is granted exactly once, whatever the order of adds,
// leases, nacks and expiries: the spread order loses nothing.
func TestBrokerSpreadGrantsEveryShardOnce(t *testing.T) {
	b := NewBroker(time.Minute, 100)
	rnd := rand.New(rand.NewPCG(3, 4))
	done := map[uint64]bool{}
	next := uint64(1)
	now := t0
	for len(done) < 2000 {
		if next <= 2000 && rnd.IntN(3) == 0 {
			for range rnd.IntN(20) + 1 {
				if next <= 2000 {
					b.Add(next)
					next++
				}
			}
		}
		g, _ := b.Lease("w", rnd.IntN(4)+1, now)
		for _, l := range g {
			require.False(t, done[l.Shard], "shard %d granted after it was done", l.Shard)
			switch rnd.IntN(5) {
			case 0:
				_, _, err := b.Nack(l.Token, now)
				require.NoError(t, err)
			case 1: // left to expire
			default:
				_, err := b.Ack(l.Token, now)
				require.NoError(t, err)
				done[l.Shard] = true
			}
		}
		now = now.Add(20 * time.Second)
	}
	assert.True(t, b.Idle())
}

// The scale harness leases with 1,000 workers over 10^5+ shards: a grant
// must not scan the queue. 200,000 shards granted and acked one at a time
// would take minutes at O(n) per lease; O(log n) takes well under a second
// (generous bound for a shared CI machine).
func TestBrokerLeaseCostIsLogarithmic(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	const n = 200_000
	b := NewBroker(time.Minute, 3)
	addRange(b, 1, n)
	start := time.Now()
	var held []Lease
	for i := range n {
		g, _ := b.Lease("w", 1, t0)
		require.Len(t, g, 1)
		held = append(held, g[0])
		if i >= 1000 { // 1,000 in flight, like 1,000 workers
			_, err := b.Ack(held[0].Token, t0)
			require.NoError(t, err)
			held = held[1:]
		}
	}
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Equal(t, 0, b.Pending())
}

func BenchmarkBrokerLease100k(b *testing.B) {
	br := NewBroker(time.Minute, 3)
	addRange(br, 1, 100_000)
	b.ResetTimer()
	for range b.N {
		g, _ := br.Lease("w", 1, t0)
		if _, err := br.Ack(g[0].Token, t0); err != nil {
			b.Fatal(err)
		}
		br.Add(g[0].Shard) // keep the queue at 100k
	}
}
