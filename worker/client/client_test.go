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
	got, err := c.Lease(t.Context(), "ignored", 5)
	require.NoError(t, err)
	g1.Worker, g2.Worker = "w1", "w1"
	assert.Equal(t, []task.Grant{g1, g2}, got)

	res := []task.Result{{Key: "k1", Dest: "out/k1", Status: task.StatusVerified, Method: task.MethodCRC64, Size: 10,
		ModTime: when, ETag: "ek1", CRC64: 7, HasCRC64: true, BytesRead: 10, BytesSent: 10, Attempts: 1, Duration: time.Second},
		{Key: "k 2", Dest: "out/k 2", Status: task.StatusFailed, Reason: "boom", Class: "permanent"}}
	require.NoError(t, c.Report(t.Context(), "w1", 11, res))
	f.do(func() {
		require.Len(t, f.reports, 1)
		assert.Equal(t, "A", f.reports[0].GetJob())
		assert.Equal(t, uint64(11), f.reports[0].GetToken())
		assert.Equal(t, "w1", f.reports[0].GetWorker())
		assert.Equal(t, res, wire.ToResults(f.reports[0].GetResults()))
	})

	require.NoError(t, c.Ack(t.Context(), "w1", 11))
	f.do(func() { f.stale[12] = true })
	require.NoError(t, c.Nack(t.Context(), "w1", 12, "disk full"), "a stale answer is not an error")
	f.do(func() {
		require.Len(t, f.acks, 1)
		assert.Equal(t, "A", f.acks[0].GetJob())
		require.Len(t, f.nacks, 1)
		assert.Equal(t, "disk full", f.nacks[0].GetReason())
	})
	assert.Error(t, c.Ack(t.Context(), "w1", 11), "a settled token is forgotten")

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

// Tokens route Report, Ack, Nack and heartbeats to their jobs; a lost
// token is still reported under its job.
func TestTokenRoutingTwoJobs(t *testing.T) {
	f, c, _ := setup(t)
	f.do(func() { f.queue = []*pb.Grant{wire.Grant(grant("A", 11, 1, "a")), wire.Grant(grant("B", 22, 1, "b"))} })
	_, err := c.Lease(t.Context(), "w1", 2)
	require.NoError(t, err)

	f.do(func() { f.lost = []*pb.HeldLease{{Job: "B", Token: 22}} })
	lost, err := c.Renew(t.Context(), "w1", []uint64{11, 22})
	require.NoError(t, err)
	assert.Equal(t, []uint64{22}, lost)
	_, err = c.Renew(t.Context(), "w1", []uint64{11, 22})
	require.NoError(t, err)
	f.do(func() {
		require.Len(t, f.heartbeats, 2)
		held := f.heartbeats[0].GetLeases()
		require.Len(t, held, 2)
		assert.Equal(t, [2]string{"A", "B"}, [2]string{held[0].GetJob(), held[1].GetJob()})
		assert.Len(t, f.heartbeats[1].GetLeases(), 1, "a lost lease is not renewed")
	})

	require.NoError(t, c.Report(t.Context(), "w1", 22, []task.Result{{Key: "b", Status: task.StatusVerified}}))
	require.NoError(t, c.Report(t.Context(), "w1", 11, []task.Result{{Key: "a", Status: task.StatusVerified}}))
	require.NoError(t, c.Nack(t.Context(), "w1", 22, "why"))
	require.NoError(t, c.Ack(t.Context(), "w1", 11))
	f.do(func() {
		assert.Equal(t, "B", f.reports[0].GetJob())
		assert.Equal(t, "A", f.reports[1].GetJob())
		assert.Equal(t, "B", f.nacks[0].GetJob())
		assert.Equal(t, "A", f.acks[0].GetJob())
	})

	err = c.Report(t.Context(), "w1", 999, nil)
	assert.ErrorContains(t, err, "not granted to this worker")
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
