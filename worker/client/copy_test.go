package client

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/internal/wire"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

// localJob is a local -> local job served by a fake master: source files,
// their shards (one object per size each; a size above 100 KiB goes
// multipart, in the first shard only), and the config text.
type localJob struct {
	src, dst string
	data     map[string][]byte
	grants   []task.Grant
	config   string
}

func newLocalJob(t *testing.T, name string, shards int, sizes ...int) *localJob {
	j := &localJob{src: t.TempDir(), dst: filepath.Join(t.TempDir(), "out"), data: map[string][]byte{}}
	b, err := local.New(j.src, local.Options{})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	for s := range shards {
		g := task.Grant{Shard: task.Shard{Job: name, Pass: 1, ID: uint64(s + 1)}, Token: uint64(1000 + s), Attempt: 1}
		for i, size := range sizes {
			if s > 0 && size >= 100<<10 {
				// Two local multipart uploads completing at the same moment
				// can trip over the shared staging directory's removal
				// (storage/local discard): not what this test is about.
				continue
			}
			key := fmt.Sprintf("d%d/obj %d.bin", s, i)
			data := make([]byte, size)
			for k := range data {
				data[k] = byte(r.Uint32())
			}
			require.NoError(t, os.MkdirAll(filepath.Join(j.src, filepath.Dir(key)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(j.src, key), data, 0o644))
			info, err := b.Stat(t.Context(), key)
			require.NoError(t, err)
			j.data[key] = data
			g.Objects = append(g.Objects, task.Object{Key: key, Dest: key, Size: info.Size, ModTime: info.ModTime, ETag: info.ETag})
		}
		j.grants = append(j.grants, g)
	}
	j.config = fmt.Sprintf("jobName=%s\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestPrefix=%s/\n"+
		"multipartUploadThreshold=100k\nmultipartUploadPartSize=32k\n", name, j.src, j.dst)
	return j
}

func (j *localJob) serveOn(f *fakeMaster, name string) {
	f.do(func() {
		f.configs[name] = j.config
		for _, g := range j.grants {
			f.queue = append(f.queue, wire.Grant(g))
		}
	})
}

func (j *localJob) checkDest(t *testing.T) {
	t.Helper()
	for key, data := range j.data {
		got, err := os.ReadFile(filepath.Join(j.dst, key))
		if assert.NoError(t, err, key) {
			assert.True(t, bytes.Equal(data, got), "%s: content differs", key)
		}
	}
}

// allReported says every object of the job has a result at the master.
func (j *localJob) allReported(f *fakeMaster) bool {
	n := 0
	f.do(func() {
		for _, g := range j.grants {
			for _, o := range g.Objects {
				if r := f.results[g.Token][o.Key]; r != nil && r.GetStatus() == pb.Status_STATUS_VERIFIED {
					n++
				}
			}
		}
	})
	return n == len(j.data)
}

func acked(f *fakeMaster) int {
	n := 0
	f.do(func() { n = len(f.acks) })
	return n
}

func startAgent(t *testing.T, c *Client) (stop func() error) {
	ctx, cancel := context.WithCancel(t.Context())
	a := &worker.Agent{Name: "w1", Master: c, CopierFor: c.CopierFor, Concurrency: 2,
		RenewEvery: c.HeartbeatEvery(), ReportEvery: 20 * time.Millisecond, Log: c.log}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("agent did not stop")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// A real copy through the client: the job's config, shards, reports,
// acks, multipart state and heartbeat stats all cross gRPC.
func TestCopyThroughClient(t *testing.T) {
	f, c, lb := setup(t)
	job := newLocalJob(t, "J", 2, 0, 1000, 70<<10, 300<<10, 5) // one multipart object
	job.serveOn(f, "J")
	stop := startAgent(t, c)
	require.Eventually(t, func() bool { return acked(f) == 2 && job.allReported(f) }, 10*time.Second, 10*time.Millisecond)
	total := int64(0)
	for _, d := range job.data {
		total += int64(len(d))
	}
	require.Eventually(t, func() bool {
		var sent, objects int64
		f.do(func() {
			for _, hb := range f.heartbeats {
				sent += hb.GetBytesSent()
				objects += hb.GetObjectsDone()
			}
		})
		return sent == total && objects == int64(len(job.data))
	}, 5*time.Second, 10*time.Millisecond, "heartbeats carry the bytes and objects done")
	require.ErrorIs(t, stop(), context.Canceled, "a cluster worker runs until stopped")
	job.checkDest(t)
	f.do(func() {
		assert.Equal(t, 1, f.getJobs, "the copier is built once per job")
		assert.GreaterOrEqual(t, f.saves, 2, "multipart state is kept on the master")
		assert.Empty(t, f.uploads, "and dropped when the upload completes")
		assert.Empty(t, f.nacks)
	})
	assert.NotContains(t, lb.String(), "srcPrefix", "the job config is never logged")
}

// The master goes away while the worker copies (its server stopped) and
// comes back on the same address, with its state or after a restart that
// forgot the worker and its leases. The worker keeps copying what it
// holds, keeps its results, and reports every one once the master is back.
func TestMasterAwayAndBack(t *testing.T) {
	for _, forget := range []bool{false, true} {
		t.Run(fmt.Sprintf("forget=%v", forget), func(t *testing.T) {
			cert := testserver.NewCert(t)
			f := newFakeMaster()
			srv, addr := serve(t, f, cert, "127.0.0.1:0", testToken)
			log, lb := newLog(t)
			c := dial(t, addr, cert, log)
			job := newLocalJob(t, "J", 2, 1000, 2000, 3000, 4000, 5000)
			job.serveOn(f, "J")
			first := make(chan struct{})
			var once sync.Once
			f.do(func() {
				// 10 objects/s for the job: copies go on through the outage.
				f.throttles = []*pb.Throttle{{Job: "J", ObjectsPerSecond: 10}}
				f.onReport = func() { once.Do(func() { close(first) }) }
			})
			stop := startAgent(t, c)
			select {
			case <-first:
			case <-time.After(10 * time.Second):
				t.Fatal("no report")
			}
			srv.Stop()
			downAt := countFiles(job.dst)
			time.Sleep(1500 * time.Millisecond)
			assert.Greater(t, countFiles(job.dst), downAt, "copies go on while the master is away")
			if forget {
				f.do(func() {
					f.reregister = 1
					f.stale = map[uint64]bool{1000: true, 1001: true}
					f.lost = []*pb.HeldLease{{Job: "J", Token: 1000}, {Job: "J", Token: 1001}}
				})
			}
			serve(t, f, cert, addr, testToken)
			require.Eventually(t, func() bool { return job.allReported(f) }, 10*time.Second, 10*time.Millisecond,
				"every result reaches the master once it is back")
			if forget {
				require.Eventually(t, func() bool {
					n := 0
					f.do(func() { n = len(f.registers) })
					return n == 2
				}, 5*time.Second, 10*time.Millisecond, "registered again with the restarted master")
			} else {
				require.Eventually(t, func() bool { return acked(f) == 2 }, 5*time.Second, 10*time.Millisecond)
			}
			require.ErrorIs(t, stop(), context.Canceled)
			job.checkDest(t)
			assert.Contains(t, lb.String(), "master unreachable, retrying")
			f.do(func() { assert.Empty(t, f.nacks) })
		})
	}
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
