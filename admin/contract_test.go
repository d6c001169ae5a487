package admin_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/remote"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/standalone"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

const token = "admin-contract-test-token-0123456789"

// fixture makes a data dir holding job "j" (6 objects) whose pass 1
// finished with o00 failed ("boom"), o01 kept at the destination ("newer
// there") and the rest verified, by a master
// and a worker made of Manager calls; the master is stopped after.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	defer st.Close()
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: dir})
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, m.Start(ctx))
	defer m.Close()
	_, _, err = m.Submit(ctx, testmaster.LocalJob(t, "j", 6), "j.cfg")
	require.NoError(t, err)
	require.NoError(t, m.Register(ctx, master.Registration{Worker: "w", Concurrency: 4}))
	require.Eventually(t, func() bool {
		testmaster.WorkOnce(t, m, func(r *task.Result) {
			switch r.Key {
			case "o00":
				r.Status, r.Method, r.Reason, r.Class = task.StatusFailed, "", "boom", "permanent"
			case "o01":
				r.Status, r.Method, r.Reason, r.Outcome = task.StatusSkipped, "", "newer there", task.OutcomeKept
			}
		})
		s, err := m.Stat("j")
		require.NoError(t, err)
		return s[0].State == string(tracker.JobFailed)
	}, 10*time.Second, 5*time.Millisecond)
	return dir
}

// snapshotFixture makes a data dir holding job "snap", a local -> local
// backupKind=snapshot job with keepLast=1 that `ferry run` ran twice, a
// source object changed between the runs: pass 1's snapshot is removed,
// pass 2's complete, based on pass 1's.
func snapshotFixture(t *testing.T) string {
	t.Helper()
	dir, src := t.TempDir(), t.TempDir()
	for _, k := range []string{"a", "b"} {
		require.NoError(t, os.WriteFile(filepath.Join(src, k), []byte("first"), 0o600))
	}
	cfg := strings.Join([]string{"jobName=snap", "srcType=local", "srcPrefix=" + src, "destType=local",
		"destPrefix=" + filepath.Join(t.TempDir(), "dst") + "/{time:2006-01-02T15-04-05}/", "backupKind=snapshot", "keepLast=1"}, "\n")
	for i := range 2 {
		if i > 0 {
			require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte("changed"), 0o600))
		}
		rep, err := standalone.Run(t.Context(), cfg, "snap.cfg", standalone.Options{DataDir: dir, Workers: 2})
		require.NoError(t, err)
		require.Zero(t, rep.Counters.Failed)
	}
	return dir
}

// impls are the two Clients, each on its own copy of the fixture: the
// data dir itself, and a master started on it behind gRPC over TLS.
var impls = []struct {
	name   string
	master bool // a master does what Local refuses with ErrNeedsMaster
	open   func(t *testing.T, dir string) admin.Client
}{
	{"local", false, func(t *testing.T, dir string) admin.Client { return admin.NewLocal(dir) }},
	{"remote", true, func(t *testing.T, dir string) admin.Client {
		cert := testserver.NewCert(t)
		m := testmaster.Start(t, dir, rpcauth.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: token})
		c, err := remote.Dial(m.Addr, rpcauth.Config{CAFile: cert.CertFile, Token: token}, 10*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}},
}

// TestContract runs the same admin operations against both Clients: the
// local and --master forms of a command must mean the same.
func TestContract(t *testing.T) {
	ops := []struct {
		name       string
		masterOnly bool                      // Local answers ErrNeedsMaster
		fixture    func(t *testing.T) string // default: fixture
		do         func(t *testing.T, ctx context.Context, c admin.Client)
	}{
		{"stat one job", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			ss, err := c.Stat(ctx, "j")
			require.NoError(t, err)
			require.Len(t, ss, 1)
			s := ss[0]
			assert.Equal(t, "j", s.Job)
			assert.Equal(t, "import", s.Type)
			assert.Equal(t, string(tracker.JobFailed), s.State)
			assert.Equal(t, uint64(1), s.Pass)
			assert.True(t, s.ScanFinished)
			assert.Equal(t, int64(6), s.Counters.Scanned)
			assert.Equal(t, int64(4), s.Counters.Verified)
			assert.Equal(t, int64(1), s.Counters.Failed)
			assert.Equal(t, int64(1), s.Counters.Kept)
			assert.Equal(t, int64(2), s.SucceedTasks)
			assert.Equal(t, s.Counters, s.Totals, "one pass: the totals are its counters")
			assert.NotEmpty(t, s.Source)
		}},
		{"stat every job", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			ss, err := c.Stat(ctx, "")
			require.NoError(t, err)
			require.Len(t, ss, 1)
			assert.Equal(t, "j", ss[0].Job)
		}},
		{"stat an unknown job", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			_, err := c.Stat(ctx, "nope")
			assert.ErrorIs(t, err, master.ErrUnknownJob)
			assert.ErrorContains(t, err, `"nope"`)
		}},
		{"failed", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			fs, err := c.Failed(ctx, "j", 0)
			require.NoError(t, err)
			require.Len(t, fs, 1)
			assert.Equal(t, "o00", fs[0].Key)
			assert.Equal(t, "boom", fs[0].Reason)
			assert.Equal(t, "permanent", fs[0].Class)
			assert.Equal(t, uint64(1), fs[0].Pass)
		}},
		{"kept", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			ks, err := c.Kept(ctx, "j", 0)
			require.NoError(t, err)
			require.Len(t, ks, 1)
			assert.Equal(t, "o01", ks[0].Key)
			assert.Equal(t, "newer there", ks[0].Reason)
			assert.Equal(t, task.OutcomeKept, ks[0].Outcome)
			assert.Equal(t, uint64(1), ks[0].Pass)
		}},
		{"failed of an unknown job", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			_, err := c.Failed(ctx, "nope", 0)
			assert.ErrorIs(t, err, master.ErrUnknownJob)
		}},
		{"snapshots", false, snapshotFixture, func(t *testing.T, ctx context.Context, c admin.Client) {
			ss, err := c.Snapshots(ctx, "snap")
			require.NoError(t, err)
			require.Len(t, ss, 2)
			assert.Equal(t, uint64(1), ss[0].Pass)
			assert.Equal(t, master.SnapshotRemoved, ss[0].State, "keepLast=1 removed the first")
			assert.Contains(t, ss[0].Why, "retention")
			assert.False(t, ss[0].Removed.IsZero())
			s := ss[1]
			assert.Equal(t, uint64(2), s.Pass)
			assert.Equal(t, master.SnapshotComplete, s.State)
			assert.Equal(t, int64(2), s.Objects)
			assert.Equal(t, uint64(1), s.Base)
			assert.Equal(t, ss[0].Prefix, s.BasePrefix)
			assert.Equal(t, int64(1), s.ServerCopied, "the unchanged object was copied from the base")
			assert.Equal(t, int64(len("changed")), s.BytesRead, "only the changed object was read")
			assert.NotEqual(t, ss[0].Prefix, s.Prefix)
			assert.False(t, s.Started.IsZero())
			assert.False(t, s.Complete.IsZero())

			_, err = c.Snapshots(ctx, "nope")
			assert.ErrorIs(t, err, master.ErrUnknownJob, "as stat")
			assert.ErrorContains(t, err, `"nope"`)
		}},
		{"snapshots of an ordinary job", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			ss, err := c.Snapshots(ctx, "j")
			require.NoError(t, err)
			assert.Empty(t, ss)
		}},
		{"retry", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			n, err := c.Retry(ctx, "j")
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			fs, err := c.Failed(ctx, "j", 0)
			require.NoError(t, err)
			assert.Empty(t, fs, "re-queued: no longer failed")
			n, err = c.Retry(ctx, "j")
			require.NoError(t, err)
			assert.Zero(t, n, "nothing left to re-queue")
		}},
		{"clean", false, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			done, err := c.Clean(ctx, "j", admin.CleanOptions{})
			require.NoError(t, err)
			assert.Empty(t, done.Aborted)
			_, err = c.Stat(ctx, "j")
			assert.ErrorIs(t, err, master.ErrUnknownJob, "cleaned: gone")
			_, err = c.Clean(ctx, "j", admin.CleanOptions{})
			assert.ErrorIs(t, err, master.ErrUnknownJob)
		}},
		{"cancel then resume", true, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			state, err := c.Cancel(ctx, "j")
			require.NoError(t, err)
			assert.Equal(t, "canceled", state)
			state, err = c.Resume(ctx, "j")
			require.NoError(t, err)
			assert.Equal(t, "running", state, "a canceled job resumes with a new pass")
			state, err = c.Pause(ctx, "j")
			require.NoError(t, err)
			assert.Equal(t, "paused", state)
		}},
		{"throttle", true, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			_, err := c.Throttle(ctx, "j", 1<<20, 5)
			require.NoError(t, err)
			ss, err := c.Stat(ctx, "j")
			require.NoError(t, err)
			assert.Equal(t, int64(1<<20), ss[0].BytesPerSecondLimit)
			_, err = c.Throttle(ctx, "j", -1, 0)
			assert.ErrorContains(t, err, "-1", "a bad rate is named")
		}},
		{"submit", true, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			job, notes, err := c.Submit(ctx, testmaster.LocalJob(t, "k", 2), "k.cfg")
			require.NoError(t, err)
			assert.Equal(t, "k", job)
			assert.NotEmpty(t, notes)
			ss, err := c.Stat(ctx, "")
			require.NoError(t, err)
			require.Len(t, ss, 2)
			assert.Equal(t, []string{"j", "k"}, []string{ss[0].Job, ss[1].Job})
		}},
		{"workers", true, nil, func(t *testing.T, ctx context.Context, c admin.Client) {
			ws, err := c.Workers(ctx)
			require.NoError(t, err)
			assert.Empty(t, ws, "no worker registered with this master")
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			for _, op := range ops {
				t.Run(op.name, func(t *testing.T) {
					fix := op.fixture
					if fix == nil {
						fix = fixture
					}
					c := impl.open(t, fix(t))
					if op.masterOnly && !impl.master {
						assertNeedsMaster(t, c)
						return
					}
					op.do(t, t.Context(), c)
				})
			}
		})
	}
}

// assertNeedsMaster: every master-only operation of c is refused as such.
func assertNeedsMaster(t *testing.T, c admin.Client) {
	t.Helper()
	ctx := t.Context()
	_, _, err := c.Submit(ctx, "jobName=x\n", "x.cfg")
	assert.ErrorIs(t, err, admin.ErrNeedsMaster)
	for name, op := range map[string]func(context.Context, string) (string, error){
		"pause": c.Pause, "resume": c.Resume, "cancel": c.Cancel,
		"throttle": func(ctx context.Context, j string) (string, error) { return c.Throttle(ctx, j, 1, 1) },
	} {
		_, err := op(ctx, "j")
		assert.ErrorIs(t, err, admin.ErrNeedsMaster, name)
	}
	_, err = c.Workers(ctx)
	assert.ErrorIs(t, err, admin.ErrNeedsMaster)
}

// While `ferry run` holds the tracker, Local's stat reads the status the
// run publishes, and the commands that need the tracker say why they
// cannot have it.
func TestLocalWhileRunHoldsTheTracker(t *testing.T) {
	dir := fixture(t)
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	defer st.Close()
	pub := standalone.Status{Job: "j", Type: "import", Pass: 2, State: "copying",
		Counters: tracker.Counters{Scanned: 3, Verified: 1, Kept: 1}, Totals: tracker.Counters{Scanned: 9, Verified: 6}, Updated: time.Now(),
		WriteRace: "the destination does not enforce put if-match",
		Snapshot:  &master.SnapshotInfo{Pass: 2, Prefix: "b/2/", State: master.SnapshotRunning, Base: 1, BasePrefix: "b/1/"}}
	b, err := json.Marshal(pub)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(standalone.StatusPath(dir, "j")), 0o700))
	require.NoError(t, os.WriteFile(standalone.StatusPath(dir, "j"), b, 0o600))

	c := &admin.Local{DataDir: dir, LockWait: 50 * time.Millisecond}
	ss, err := c.Stat(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, ss, 1)
	assert.True(t, ss[0].Live)
	assert.Equal(t, "running", ss[0].State)
	assert.Equal(t, uint64(2), ss[0].Pass)
	assert.Equal(t, int64(6), ss[0].Totals.Verified)
	assert.True(t, ss[0].ScanFinished, "copying: the scan is done")
	assert.Equal(t, int64(1), ss[0].Counters.Kept)
	assert.Equal(t, pub.WriteRace, ss[0].WriteRace, "the race window is shown while the run holds the tracker")
	assert.Equal(t, pub.Snapshot, ss[0].Snapshot, "so is the pass's snapshot")

	_, err = c.Stat(t.Context(), "other")
	assert.ErrorContains(t, err, `job "other"`)
	_, err = c.Failed(t.Context(), "j", 0)
	assert.ErrorIs(t, err, tracker.ErrInUse)
	assert.ErrorContains(t, err, "`ferry stat` works meanwhile")
	_, err = c.Retry(t.Context(), "j")
	assert.ErrorIs(t, err, tracker.ErrInUse)
}

// Local.Clean aborts uploads only with the job's own config; without one
// it refuses, naming the uploads, or with Force forgets them, and it
// removes the status a run published.
func TestLocalCleanUploads(t *testing.T) {
	dir := fixture(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "jobs", "j.cfg")), "a `ferry run` job keeps no config")
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	require.NoError(t, st.PutUpload(task.UploadState{Job: "j", Key: "big", Dest: "dst/big", UploadID: "u-1"}))
	require.NoError(t, st.Close())
	require.NoError(t, os.MkdirAll(filepath.Dir(standalone.StatusPath(dir, "j")), 0o700))
	require.NoError(t, os.WriteFile(standalone.StatusPath(dir, "j"), []byte("{}"), 0o600))
	c := admin.NewLocal(dir)

	_, err = c.Clean(t.Context(), "j", admin.CleanOptions{})
	assert.ErrorIs(t, err, master.ErrUploadsLeft)
	other := filepath.Join(t.TempDir(), "k.cfg")
	require.NoError(t, os.WriteFile(other, []byte(testmaster.LocalJob(t, "k", 1)), 0o600))
	_, err = c.Clean(t.Context(), "j", admin.CleanOptions{ConfigFile: other})
	assert.ErrorContains(t, err, other+` is the config of job "k", not "j"`)

	done, err := c.Clean(t.Context(), "j", admin.CleanOptions{Force: true})
	require.NoError(t, err)
	require.Len(t, done.Forgotten, 1)
	assert.Equal(t, "dst/big", done.Forgotten[0].Dest)
	assert.NoFileExists(t, standalone.StatusPath(dir, "j"))
	_, err = c.Stat(t.Context(), "j")
	assert.ErrorIs(t, err, master.ErrUnknownJob)
}
