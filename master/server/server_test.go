package server_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/internal/wire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

const token = "server-test-token-0123456789abcdef"

// cluster is a master served over TLS on 127.0.0.1, in-process.
type cluster struct {
	addr string
	cert *testserver.Cert
}

func startMaster(t *testing.T) *cluster {
	t.Helper()
	cert := testserver.NewCert(t)
	m := testmaster.Start(t, "", rpcauth.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: token})
	return &cluster{addr: m.Addr, cert: cert}
}

// dial returns a connection with the given token (and TLS unless insecure).
func (c *cluster) dial(t *testing.T, tok string, insecure bool) *grpc.ClientConn {
	t.Helper()
	opts, err := rpcauth.DialOptions(rpcauth.Config{CAFile: c.cert.CertFile, Token: tok, Insecure: insecure})
	require.NoError(t, err)
	conn, err := grpc.NewClient(c.addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func code(err error) codes.Code { return status.Code(err) }

// TestFullJobOverGRPC drives a job to its end with a tiny worker made of
// raw RPCs: register, heartbeat, lease, report, ack.
func TestFullJobOverGRPC(t *testing.T) {
	c := startMaster(t)
	conn := c.dial(t, token, false)
	admin, wk := pb.NewAdminServiceClient(conn), pb.NewWorkerServiceClient(conn)
	ctx := t.Context()
	cfg := testmaster.LocalJob(t, "g", 10)
	sub, err := admin.Submit(ctx, &pb.SubmitRequest{Config: cfg, ConfigName: "g.cfg"})
	require.NoError(t, err)
	assert.Equal(t, "g", sub.GetJob())
	assert.NotEmpty(t, sub.GetNotes())

	reg, err := wk.Register(ctx, &pb.RegisterRequest{Worker: "w1", Concurrency: 2, Hostname: "h1", Version: "test"})
	require.NoError(t, err)
	assert.Equal(t, time.Second, reg.GetHeartbeatEvery().AsDuration())
	assert.Positive(t, reg.GetLeaseTtl().AsDuration())
	assert.NotEmpty(t, reg.GetMasterId())
	job, err := wk.GetJob(ctx, &pb.GetJobRequest{Job: "g"})
	require.NoError(t, err)
	assert.Equal(t, cfg, job.GetConfig())
	require.NotNil(t, job.CreateOnlyEnforced, "the master's probe of the destination travels with the config")
	assert.True(t, job.GetCreateOnlyEnforced(), "a local destination refuses a create-only write over a file")

	up := task.UploadState{Job: "g", Key: "o01", Dest: "o01", UploadID: "u1", PartSize: 5 << 20,
		Parts: []task.PartState{{Number: 1, Size: 5 << 20, ETag: "e", CRC64: 7, MD5: "m"}}}
	_, err = wk.SaveUpload(ctx, &pb.SaveUploadRequest{State: wire.Upload(up)})
	require.NoError(t, err)
	got, err := wk.LoadUpload(ctx, &pb.LoadUploadRequest{Job: "g", Key: "o01"})
	require.NoError(t, err)
	require.True(t, got.GetFound())
	assert.Equal(t, up.Parts, wire.ToUpload(got.GetState()).Parts)
	_, err = wk.DropUpload(ctx, &pb.DropUploadRequest{Job: "g", Key: "o01"})
	require.NoError(t, err)

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		hb, err := wk.Heartbeat(ctx, &pb.HeartbeatRequest{Worker: "w1"})
		require.NoError(t, err)
		assert.False(t, hb.GetReregister())
		st, err := admin.Stat(ctx, &pb.StatRequest{Job: "g"})
		require.NoError(t, err)
		if st.GetJobs()[0].GetState() == string(tracker.JobSucceeded) {
			break
		}
		// Held by the master while the scan is still running.
		lease, err := wk.Lease(ctx, &pb.LeaseRequest{Worker: "w1", Max: 2, Wait: durationpb.New(time.Second)})
		require.NoError(t, err)
		if len(lease.GetGrants()) == 0 {
			continue
		}
		for _, pg := range lease.GetGrants() {
			g := wire.ToGrant(pg)
			res := make([]task.Result, len(g.Objects))
			for i, o := range g.Objects {
				res[i] = task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusVerified, Method: task.MethodSize, Size: o.Size, ModTime: o.ModTime}
			}
			_, err := wk.Report(ctx, &pb.ReportRequest{Worker: "w1", Job: g.Job, Pass: g.Pass, Token: g.Token, Results: wire.Results(res)})
			require.NoError(t, err)
			stale, err := wk.Report(ctx, &pb.ReportRequest{Worker: "w1", Job: g.Job, Pass: g.Pass + 1, Token: g.Token, Results: wire.Results(res)})
			require.NoError(t, err)
			assert.True(t, stale.GetStale(), "a report naming another pass is refused as stale")
			ack, err := wk.Ack(ctx, &pb.AckRequest{Worker: "w1", Job: g.Job, Pass: g.Pass, Token: g.Token})
			require.NoError(t, err)
			assert.False(t, ack.GetStale())
			ack, err = wk.Ack(ctx, &pb.AckRequest{Worker: "w1", Job: g.Job, Pass: g.Pass, Token: g.Token})
			require.NoError(t, err)
			assert.True(t, ack.GetStale(), "a duplicate ack is stale, not an error")
		}
	}
	st, err := admin.Stat(ctx, &pb.StatRequest{})
	require.NoError(t, err)
	require.Len(t, st.GetJobs(), 1)
	js := st.GetJobs()[0]
	assert.Equal(t, string(tracker.JobSucceeded), js.GetState())
	assert.Equal(t, int64(10), js.GetCounters().GetVerified())
	assert.Equal(t, int64(3), js.GetSucceedTasks())
	assert.True(t, js.GetScanFinished())
	assert.NotNil(t, js.GetCheckpoint())

	ws, err := admin.ListWorkers(ctx, &pb.ListWorkersRequest{})
	require.NoError(t, err)
	require.Len(t, ws.GetWorkers(), 1)
	w := ws.GetWorkers()[0]
	assert.Equal(t, "w1", w.GetWorker())
	assert.Equal(t, "h1", w.GetHostname())
	assert.True(t, w.GetAlive())
	assert.Contains(t, w.GetAddress(), "127.0.0.1:")
}

// TestRefusedWithoutTheToken: a wrong token, no token or plaintext is
// refused and changes nothing.
func TestRefusedWithoutTheToken(t *testing.T) {
	c := startMaster(t)
	ctx := t.Context()
	good := pb.NewAdminServiceClient(c.dial(t, token, false))
	_, err := good.Submit(ctx, &pb.SubmitRequest{Config: testmaster.LocalJob(t, "keep", 3)})
	require.NoError(t, err)

	bad := c.dial(t, "wrong-token-0123456789abcdef", false)
	_, err = pb.NewAdminServiceClient(bad).Cancel(ctx, &pb.JobRequest{Job: "keep"})
	assert.Equal(t, codes.Unauthenticated, code(err), "%v", err)
	_, err = pb.NewAdminServiceClient(bad).Submit(ctx, &pb.SubmitRequest{Config: testmaster.LocalJob(t, "intruder", 1)})
	assert.Equal(t, codes.Unauthenticated, code(err))
	_, err = pb.NewAdminServiceClient(bad).Snapshots(ctx, &pb.SnapshotsRequest{Job: "keep"})
	assert.Equal(t, codes.Unauthenticated, code(err), "a job's snapshots (its destination prefixes) need the token")
	_, err = pb.NewWorkerServiceClient(bad).Register(ctx, &pb.RegisterRequest{Worker: "intruder"})
	assert.Equal(t, codes.Unauthenticated, code(err))
	_, err = pb.NewWorkerServiceClient(bad).GetJob(ctx, &pb.GetJobRequest{Job: "keep"})
	assert.Equal(t, codes.Unauthenticated, code(err), "no config (with credentials) for a wrong token")
	_, err = pb.NewWorkerServiceClient(c.dial(t, token, true)).Register(ctx, &pb.RegisterRequest{Worker: "plaintext"})
	assert.NotEqual(t, codes.OK, code(err), "plaintext to a TLS master")

	st, err := good.Stat(ctx, &pb.StatRequest{})
	require.NoError(t, err)
	require.Len(t, st.GetJobs(), 1, "no job was added")
	assert.Equal(t, string(tracker.JobRunning), st.GetJobs()[0].GetState(), "the job was not canceled")
	ws, err := good.ListWorkers(ctx, &pb.ListWorkersRequest{})
	require.NoError(t, err)
	assert.Empty(t, ws.GetWorkers(), "no refused worker was registered")
}

func TestErrorsMapToCodes(t *testing.T) {
	c := startMaster(t)
	conn := c.dial(t, token, false)
	admin, wk := pb.NewAdminServiceClient(conn), pb.NewWorkerServiceClient(conn)
	ctx := t.Context()
	_, err := admin.Submit(ctx, &pb.SubmitRequest{Config: testmaster.LocalJob(t, "run", 3)})
	require.NoError(t, err)

	_, err = admin.Stat(ctx, &pb.StatRequest{Job: "nope"})
	assert.Equal(t, codes.NotFound, code(err))
	_, err = admin.Snapshots(ctx, &pb.SnapshotsRequest{Job: "nope"})
	assert.Equal(t, codes.NotFound, code(err), "as Stat")
	_, err = wk.Ack(ctx, &pb.AckRequest{Worker: "w", Job: "nope", Token: 1})
	assert.Equal(t, codes.NotFound, code(err))

	_, err = admin.Submit(ctx, &pb.SubmitRequest{Config: "jobName=x\nsrcTyp=local\n", ConfigName: "x.cfg"})
	assert.Equal(t, codes.InvalidArgument, code(err))
	assert.Contains(t, status.Convert(err).Message(), "srcTyp", "the message names the key")

	missing := filepath.Join(t.TempDir(), "missing")
	_, err = admin.Submit(ctx, &pb.SubmitRequest{Config: strings.Join([]string{"jobName=m", "srcType=local",
		"srcPrefix=" + missing, "destType=local", "destPrefix=" + t.TempDir()}, "\n")})
	assert.Equal(t, codes.FailedPrecondition, code(err))
	assert.Contains(t, status.Convert(err).Message(), missing)

	_, err = admin.Submit(ctx, &pb.SubmitRequest{Config: testmaster.LocalJob(t, "run", 1)})
	assert.Equal(t, codes.AlreadyExists, code(err), "same name, another source")
	_, err = admin.Clean(ctx, &pb.CleanRequest{Job: "run"})
	assert.Equal(t, codes.FailedPrecondition, code(err), "clean a running job")
	_, err = admin.SetThrottle(ctx, &pb.SetThrottleRequest{Job: "run", BytesPerSecond: -1})
	assert.Equal(t, codes.InvalidArgument, code(err))
	_, err = wk.Lease(ctx, &pb.LeaseRequest{Max: 1})
	assert.Equal(t, codes.InvalidArgument, code(err), "no worker name")

	r, err := admin.SetThrottle(ctx, &pb.SetThrottleRequest{Job: "run", BytesPerSecond: 1 << 20})
	require.NoError(t, err)
	assert.Equal(t, "running", r.GetState())
	r, err = admin.Pause(ctx, &pb.JobRequest{Job: "run"})
	require.NoError(t, err)
	assert.Equal(t, "paused", r.GetState())
	r, err = admin.Cancel(ctx, &pb.JobRequest{Job: "run"})
	require.NoError(t, err)
	assert.Equal(t, "canceled", r.GetState())
	cl, err := admin.Clean(ctx, &pb.CleanRequest{Job: "run"})
	require.NoError(t, err)
	assert.Equal(t, "cleaned", cl.GetState())
}

// TestLeaseWaitsForAShardOverGRPC: a lease carrying a wait is held open by
// the master until a shard is queued: the first shard of a scan still
// running, then one another worker gives back.
func TestLeaseWaitsForAShardOverGRPC(t *testing.T) {
	c := startMaster(t)
	conn := c.dial(t, token, false)
	admin, wk := pb.NewAdminServiceClient(conn), pb.NewWorkerServiceClient(conn)
	ctx := t.Context()
	for _, w := range []string{"w1", "w2"} {
		_, err := wk.Register(ctx, &pb.RegisterRequest{Worker: w, Concurrency: 1, Hostname: "h", Version: "test"})
		require.NoError(t, err)
	}
	_, err := admin.Submit(ctx, &pb.SubmitRequest{Config: testmaster.LocalJob(t, "g", 4), ConfigName: "g.cfg"})
	require.NoError(t, err)

	// Asked right after the submit: answered by the scanner's first shard.
	wait := durationpb.New(master.MaxLeaseWait)
	first, err := wk.Lease(ctx, &pb.LeaseRequest{Worker: "w1", Max: 2, Wait: wait})
	require.NoError(t, err)
	require.Len(t, first.GetGrants(), 1, "the job's one shard")
	g := first.GetGrants()[0]

	// Nothing to grant: the call is held for its wait, then answered empty.
	asked := time.Now()
	none, err := wk.Lease(ctx, &pb.LeaseRequest{Worker: "w2", Max: 1, Wait: durationpb.New(200 * time.Millisecond)})
	require.NoError(t, err)
	assert.Empty(t, none.GetGrants())
	assert.GreaterOrEqual(t, time.Since(asked), 200*time.Millisecond, "the master held the call")

	answered := make(chan *pb.LeaseResponse, 1)
	go func() {
		r, err := wk.Lease(ctx, &pb.LeaseRequest{Worker: "w2", Max: 1, Wait: wait})
		assert.NoError(t, err)
		answered <- r
	}()
	// w2's lease is either waiting already or not yet asked; either way
	// the nack below queues the shard it must get. (That a waiting call is
	// woken, rather than answered at the end of its wait, is
	// master.TestLeaseWaitWakesWhenAShardIsQueued.)
	_, err = wk.Nack(ctx, &pb.NackRequest{Worker: "w1", Job: g.GetJob(), Pass: g.GetPass(), Token: g.GetToken(), Reason: "test"})
	require.NoError(t, err)
	select {
	case r := <-answered:
		require.Len(t, r.GetGrants(), 1)
		assert.Equal(t, g.GetShard(), r.GetGrants()[0].GetShard())
	case <-time.After(master.MaxLeaseWait / 2):
		t.Fatal("the waiting lease was not answered when the shard was given back")
	}
}
