package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/internal/wire"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

var when = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)

func grant(job string, token, id uint64, keys ...string) task.Grant {
	g := task.Grant{Shard: task.Shard{Job: job, Pass: 2, ID: id}, Token: token, Deadline: when, Attempt: 1}
	for i, k := range keys {
		g.Objects = append(g.Objects, task.Object{Key: k, Dest: "out/" + k, Size: int64(10 + i), ModTime: when,
			ETag: "e" + k, CRC64: uint64(i) + 1<<63, HasCRC64: true})
	}
	return g
}

func setup(t *testing.T) (*fakeMaster, *Client, *logBuf) {
	cert := testserver.NewCert(t)
	f := newFakeMaster()
	_, addr := serve(t, f, cert, "127.0.0.1:0", testToken)
	log, lb := newLog(t)
	return f, dial(t, addr, cert, log), lb
}

// One lease -> report -> ack cycle: every field crosses the wire, and the
// calls carry the job of the token.
func TestLeaseReportAckRoundTrip(t *testing.T) {
	f, c, _ := setup(t)
	f.do(func() {
		require.Len(t, f.registers, 1)
		assert.Equal(t, "w1", f.registers[0].GetWorker())
		assert.Equal(t, "host1", f.registers[0].GetHostname())
		assert.Equal(t, int32(4), f.registers[0].GetConcurrency())
	})
	assert.Equal(t, 50*time.Millisecond, c.HeartbeatEvery())
	assert.Equal(t, time.Minute, c.LeaseTTL())

	g1, g2 := grant("A", 11, 1, "k1", "k 2"), grant("A", 12, 2, "k3")
	f.do(func() { f.queue = []*pb.Grant{wire.Grant(g1), wire.Grant(g2)} })
	got, err := c.Lease(t.Context(), "ignored", 5, 0)
	require.NoError(t, err)
	g1.Worker, g2.Worker = "w1", "w1"
	assert.Equal(t, []task.Grant{g1, g2}, got)

	res := []task.Result{{Key: "k1", Dest: "out/k1", Status: task.StatusVerified, Method: task.MethodCRC64, Size: 10,
		ModTime: when, ETag: "ek1", CRC64: 7, HasCRC64: true, BytesRead: 10, BytesSent: 10, Attempts: 1, Duration: time.Second},
		{Key: "k 2", Dest: "out/k 2", Status: task.StatusFailed, Reason: "boom", Class: "permanent"}}
	require.NoError(t, c.Report(t.Context(), "w1", g1.Ref(), res))
	f.do(func() {
		require.Len(t, f.reports, 1)
		assert.Equal(t, "A", f.reports[0].GetJob())
		assert.Equal(t, g1.Pass, f.reports[0].GetPass())
		assert.Equal(t, uint64(11), f.reports[0].GetToken())
		assert.Equal(t, "w1", f.reports[0].GetWorker())
		assert.Equal(t, res, wire.ToResults(f.reports[0].GetResults()))
	})

	require.NoError(t, c.Ack(t.Context(), "w1", g1.Ref()))
	f.do(func() { f.stale[12] = true })
	require.NoError(t, c.Nack(t.Context(), "w1", g2.Ref(), "disk full"), "a stale answer is not an error")
	f.do(func() {
		require.Len(t, f.acks, 1)
		assert.Equal(t, "A", f.acks[0].GetJob())
		assert.Equal(t, g1.Pass, f.acks[0].GetPass())
		require.Len(t, f.nacks, 1)
		assert.Equal(t, "disk full", f.nacks[0].GetReason())
		assert.Equal(t, g2.Pass, f.nacks[0].GetPass())
	})
	f.do(func() { f.staleReport = map[uint64]bool{12: true} })
	err = c.Report(t.Context(), "w1", g2.Ref(), res)
	assert.ErrorIs(t, err, task.ErrStale, "a report the master refused as stale says so")
	assert.Equal(t, storage.Permanent, storage.Classify(err), "and is not retried")

	up := task.UploadState{Job: "A", Key: "big", Dest: "out/big", UploadID: "u1", PartSize: 5 << 20, Size: 11 << 20,
		ModTime: when, ETag: "e", Parts: []task.PartState{{Number: 1, Size: 5 << 20, ETag: "p1", CRC64: 3, MD5: "m"}}, Created: when}
	require.NoError(t, c.SaveUpload(t.Context(), up))
	back, ok, err := c.LoadUpload(t.Context(), "A", "big")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, up, back)
	require.NoError(t, c.DropUpload(t.Context(), "A", "big"))
	f.do(func() { f.saveErr = status.Error(codes.Internal, "tracker: write failed") })
	err = c.SaveUpload(t.Context(), up)
	assert.Equal(t, storage.Retryable, storage.Classify(err), "a master's internal error costs the copier an attempt, not the object: %v", err)
	f.do(func() { f.saveErr = status.Error(codes.InvalidArgument, "no key") })
	assert.Equal(t, storage.Permanent, storage.Classify(c.SaveUpload(t.Context(), up)))
	_, ok, err = c.LoadUpload(t.Context(), "A", "big")
	require.NoError(t, err)
	assert.False(t, ok)
}

// Report, Ack, Nack and heartbeats carry the job, pass and token of
// their lease: the client keeps no map of its own to route them.
func TestLeasesNameTheirJobAndPass(t *testing.T) {
	f, c, _ := setup(t)
	a, b := grant("A", 11, 1, "a"), grant("B", 22, 1, "b")
	a.Pass, b.Pass = 3, 7
	f.do(func() { f.queue = []*pb.Grant{wire.Grant(a), wire.Grant(b)} })
	_, err := c.Lease(t.Context(), "w1", 2, 0)
	require.NoError(t, err)

	f.do(func() { f.lost = []*pb.HeldLease{{Job: "B", Pass: 7, Token: 22}} })
	lost, err := c.Renew(t.Context(), "w1", []task.LeaseRef{a.Ref(), b.Ref()})
	require.NoError(t, err)
	assert.Equal(t, []uint64{22}, lost)
	f.do(func() {
		require.Len(t, f.heartbeats, 1)
		held := wire.ToLeases(f.heartbeats[0].GetLeases())
		assert.Equal(t, []task.LeaseRef{a.Ref(), b.Ref()}, held)
	})

	require.NoError(t, c.Report(t.Context(), "w1", b.Ref(), []task.Result{{Key: "b", Status: task.StatusVerified}}))
	require.NoError(t, c.Report(t.Context(), "w1", a.Ref(), []task.Result{{Key: "a", Status: task.StatusVerified}}))
	require.NoError(t, c.Nack(t.Context(), "w1", b.Ref(), "why"))
	require.NoError(t, c.Ack(t.Context(), "w1", a.Ref()))
	f.do(func() {
		assert.Equal(t, [2]string{"B", "A"}, [2]string{f.reports[0].GetJob(), f.reports[1].GetJob()})
		assert.Equal(t, [2]uint64{7, 3}, [2]uint64{f.reports[0].GetPass(), f.reports[1].GetPass()})
		assert.Equal(t, "B", f.nacks[0].GetJob())
		assert.Equal(t, uint64(7), f.nacks[0].GetPass())
		assert.Equal(t, "A", f.acks[0].GetJob())
		assert.Equal(t, uint64(3), f.acks[0].GetPass())
	})
}

// Heartbeats apply the job's throttle share, carry the stats since the
// previous heartbeat, and re-register when the master forgot us.
func TestHeartbeatSharesStatsReregister(t *testing.T) {
	f, c, lb := setup(t)
	f.do(func() {
		f.throttles = []*pb.Throttle{{Job: "A", BytesPerSecond: 1 << 20, ObjectsPerSecond: 5}, {Job: "B"}}
	})
	c.bytesSent.Add(1000)
	c.objectsDone.Add(3)
	c.slowdowns.Add(2)
	_, err := c.Renew(t.Context(), "w1", nil)
	require.NoError(t, err)
	b, o := c.Throttle("A").Limits()
	assert.Equal(t, int64(1<<20), b)
	assert.InDelta(t, 5.0, o, 1e-9)
	b, o = c.Throttle("B").Limits()
	assert.Zero(t, b)
	assert.Zero(t, o)
	f.do(func() {
		hb := f.heartbeats[0]
		assert.Equal(t, [3]int64{1000, 3, 2}, [3]int64{hb.GetBytesSent(), hb.GetObjectsDone(), hb.GetSlowdowns()})
	})

	// The limit changes while the job runs; the master restarted and asks
	// us to register again.
	f.do(func() {
		f.throttles = []*pb.Throttle{{Job: "A", BytesPerSecond: 2 << 20}}
		f.reregister = 1
	})
	c.bytesSent.Add(500)
	_, err = c.Renew(t.Context(), "w1", nil)
	require.NoError(t, err)
	b, o = c.Throttle("A").Limits()
	assert.Equal(t, int64(2<<20), b)
	assert.Zero(t, o, "a lifted limit arrives as zero")
	f.do(func() {
		assert.Len(t, f.registers, 2, "registered again")
		require.Len(t, f.heartbeats, 3, "the heartbeat is repeated after registering")
		assert.Equal(t, int64(500), f.heartbeats[2].GetBytesSent(), "with the stats the forgetful master did not count")
		assert.Positive(t, f.heartbeats[2].GetInterval().AsDuration())
	})
	assert.Contains(t, lb.String(), "registering again")
}

// A wrong token fails Dial at once, with an error that says so and that
// the agent classifies as fatal.
func TestUnauthenticatedFailsFast(t *testing.T) {
	cert := testserver.NewCert(t)
	_, addr := serve(t, newFakeMaster(), cert, "127.0.0.1:0", "another-token-0123456789")
	start := time.Now()
	_, err := Dial(t.Context(), addr, rpcauth.Config{CAFile: cert.CertFile, ServerName: "localhost", Token: testToken},
		Options{Name: "w1"})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, err, ErrTokenRefused)
	assert.ErrorContains(t, err, "the master refused our cluster token")
	assert.Equal(t, storage.Fatal, storage.Classify(err))
	assert.NotContains(t, err.Error(), testToken)
}

// A master certificate the worker does not trust is a flag mistake: Dial
// says so at once instead of waiting.
func TestUntrustedMasterFailsFast(t *testing.T) {
	cert := testserver.NewCert(t)
	_, addr := serve(t, newFakeMaster(), cert, "127.0.0.1:0", testToken)
	start := time.Now()
	_, err := Dial(t.Context(), addr, rpcauth.Config{Token: testToken}, Options{Name: "w1"}) // system roots
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, err, ErrUntrusted)
	assert.ErrorContains(t, err, "--tls-ca")
}

// Dial waits for a master that is not there yet, until its context ends.
func TestDialWaitsForMaster(t *testing.T) {
	cert := testserver.NewCert(t)
	l := mustFreeAddr(t)
	log, lb := newLog(t)
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, l, rpcauth.Config{CAFile: cert.CertFile, ServerName: "localhost", Token: testToken},
		Options{Name: "w1", Log: log, MaxBackoff: 100 * time.Millisecond})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Contains(t, lb.String(), "master unreachable, retrying")
	assert.Equal(t, 1, countOf(lb.String(), "level=WARN"), "the warning is rate-limited")
}

// TestLeaseCarriesItsWait: the wait crosses the wire, and the call's
// deadline leaves room for it on top of the call timeout (5 s here), so a
// lease the master holds is not cut short as a slow call.
func TestLeaseCarriesItsWait(t *testing.T) {
	f, c, _ := setup(t)
	for _, wait := range []time.Duration{0, 3 * time.Second} {
		_, err := c.Lease(t.Context(), "w1", 1, wait)
		require.NoError(t, err)
	}
	f.do(func() {
		assert.Equal(t, []time.Duration{0, 3 * time.Second}, f.leaseWaits)
		require.Len(t, f.leaseLeft, 2)
		assert.LessOrEqual(t, f.leaseLeft[0], 5*time.Second)
		assert.Greater(t, f.leaseLeft[1], 5*time.Second)
	})
}
