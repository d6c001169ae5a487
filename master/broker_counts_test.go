package master

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Grants and expiries are counted where the broker decides them: a lease
// past its deadline, and the leases of a worker declared dead, both count
// as expired; an ack or a cancel (ReleaseAll) does not.
func TestBrokerCountsLeases(t *testing.T) {
	var c LeaseCounts
	b := NewBroker(time.Minute, 3)
	b.SetCounts(&c)
	b.Add(1, 2, 3, 4)
	g, _ := b.Lease("w1", 2, t0)
	b.Lease("w2", 1, t0)
	assert.Equal(t, int64(3), c.Granted.Load())
	_, err := b.Ack(g[0].Token, t0)
	assert.NoError(t, err)
	b.ReleaseWorker("w2") // dead worker: its lease is reclaimed
	assert.Equal(t, int64(1), c.Expired.Load())
	later := t0.Add(2 * time.Minute) // w1's second lease is past its deadline
	b.Lease("w3", 1, later)
	assert.Equal(t, int64(2), c.Expired.Load())
	assert.Equal(t, int64(4), c.Granted.Load())
	b.ReleaseAll()
	assert.Equal(t, int64(2), c.Expired.Load(), "a cancel is not an expiry")
}
