package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// cluster is a master and its workers as real processes, over TLS with a
// cluster token, all on 127.0.0.1.
type cluster struct {
	t         *testing.T
	data      string
	addr      string
	cert      *testserver.Cert
	tokenFile string
	master    *proc
	workers   map[string]*proc
	seq       int
	masterLog []string // outputs of earlier master processes
	// masterArgs are added to every start of the master.
	masterArgs []string
}

const clusterToken = "e2e-cluster-token-0123456789abcdef"

func newCluster(t *testing.T, masterArgs ...string) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := &cluster{t: t, data: filepath.Join(dir, "master-data"), cert: testserver.NewCert(t),
		tokenFile: filepath.Join(dir, "token"), workers: map[string]*proc{}, masterArgs: masterArgs}
	if err := os.WriteFile(c.tokenFile, []byte(clusterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addSecret(clusterToken)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = l.Addr().String() // fixed, so a restarted master is found again
	l.Close()
	c.startMaster()
	return c
}

func (c *cluster) startMaster() {
	c.t.Helper()
	c.master = startFerry(c.t, append([]string{"master", "--data-dir", c.data, "--listen", c.addr,
		"--tls-cert", c.cert.CertFile, "--tls-key", c.cert.KeyFile, "--token-file", c.tokenFile,
		"--lease-ttl", "6s", "--heartbeat", "1s"}, c.masterArgs...)...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r := runFerry(c.t, c.adminArgs("jobs")...); r.code == 0 {
			return
		}
		if c.master.Exited() {
			c.t.Fatalf("master exited at start:\n%s", c.master.Wait())
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("master did not answer on %s within 20s:\n%s", c.addr, c.master.Kill())
}

// killMaster SIGKILLs the master (no chance to flush anything).
func (c *cluster) killMaster() {
	r := c.master.Kill()
	c.masterLog = append(c.masterLog, r.stderr)
}

// startWorker starts a worker, with extra flags if any.
func (c *cluster) startWorker(extra ...string) string {
	c.seq++
	name := fmt.Sprintf("w%d", c.seq)
	c.workers[name] = startFerry(c.t, append([]string{"worker", "--master", c.addr, "--tls-ca", c.cert.CertFile,
		"--token-file", c.tokenFile, "--concurrency", "4", "--name", name}, extra...)...)
	return name
}

func (c *cluster) killWorker(name string) {
	c.workers[name].Kill()
	delete(c.workers, name)
}

// adminArgs adds the flags that reach the master to a command, right after
// the subcommand (flag parsing stops at the first positional argument).
func (c *cluster) adminArgs(args ...string) []string {
	out := []string{args[0], "--master", c.addr, "--tls-ca", c.cert.CertFile, "--token-file", c.tokenFile}
	return append(out, args[1:]...)
}

func (c *cluster) admin(args ...string) result {
	c.t.Helper()
	return runFerry(c.t, c.adminArgs(args...)...)
}

type clusterStat struct {
	JobName      string   `json:"job_name"`
	JobState     string   `json:"job_state"`
	ScanFinished bool     `json:"scan_finished"`
	RunningTasks int64    `json:"running_tasks"`
	Counters     counters `json:"counters"`
}

func (c *cluster) stat(job string) (clusterStat, bool) {
	c.t.Helper()
	r := c.admin("stat", "--json", job)
	if r.code != 0 {
		return clusterStat{}, false
	}
	var s []clusterStat
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || len(s) != 1 {
		return clusterStat{}, false
	}
	return s[0], true
}

// waitDone polls until the job leaves the running state.
func (c *cluster) waitDone(job string, timeout time.Duration, tick func(elapsed time.Duration)) clusterStat {
	c.t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if s, ok := c.stat(job); ok && s.JobState != "running" && s.ScanFinished {
			return s
		}
		if tick != nil {
			tick(time.Since(start))
		}
		time.Sleep(500 * time.Millisecond)
	}
	s, _ := c.stat(job)
	c.t.Fatalf("job %q not finished after %s: %+v", job, timeout, s)
	return s
}

// TestChaos: a master and three workers copy ~2000 objects of mixed sizes
// (some multipart) between two S3 buckets while a driver SIGKILLs a random
// worker every few seconds and starts a new one, and kills and restarts
// the master once. The job completes with nothing failed and the
// destination equals the source, checked object by object.
func TestChaos(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "chaos-src"), env.s3Side(t, "chaos-dst")
	var objs []object
	for i := range 1990 {
		objs = append(objs, newObject(fmt.Sprintf("d%02d/obj-%04d.bin", i%37, i), randomBytes(1+(i*7919)%40000, uint64(i))))
	}
	for i := range 10 {
		// Two or three parts each: a part must be able to finish within a
		// worker's few seconds of life.
		objs = append(objs, newObject(fmt.Sprintf("big/part-%02d.bin", i), randomBytes(9<<20+i*100_003, uint64(10_000+i))))
	}
	putObjects(t, src.direct(), src.bucket, objs)
	cfg := writeJob(t, t.TempDir(), "chaos.cfg", append(append(jobLines("chaos",
		// The object rate, not bandwidth, stretches the job to ~40 s so
		// the chaos has time to bite while every part stays quick.
		"taskObjectCountLimit=50", "maxObjectsPerSecond=50"), src.lines("src")...), dst.lines("dest")...)...)

	c := newCluster(t)
	for range 3 {
		c.startWorker()
	}
	wantExit(t, c.admin("submit", cfg), 0)

	rng := rand.New(rand.NewPCG(1, 2))
	lastKill, masterKilled, kills := time.Duration(0), false, 0
	s := c.waitDone("chaos", 4*time.Minute, func(el time.Duration) {
		if !masterKilled && el > 12*time.Second {
			masterKilled = true
			c.killMaster()
			time.Sleep(time.Second)
			c.startMaster()
			t.Logf("master killed and restarted at %s", el.Round(time.Second))
		}
		if el-lastKill > 3*time.Second && len(c.workers) > 0 {
			lastKill = el
			names := make([]string, 0, len(c.workers))
			for n := range c.workers {
				names = append(names, n)
			}
			victim := names[rng.IntN(len(names))]
			c.killWorker(victim)
			kills++
			c.startWorker()
		}
	})
	t.Logf("job done: %+v after %d worker kills", s.Counters, kills)
	if s.JobState != "succeeded" || s.Counters.Failed != 0 {
		r := c.admin("failed", "chaos")
		t.Fatalf("job ended %q with %d failed:\n%s", s.JobState, s.Counters.Failed, r.stdout)
	}
	if s.Counters.Verified != int64(len(objs)) || s.Counters.Scanned != int64(len(objs)) {
		t.Errorf("manifest counts: listed %d, verified %d; the source has %d", s.Counters.Scanned, s.Counters.Verified, len(objs))
	}
	if kills < 5 {
		t.Errorf("only %d worker kills happened: the job ended before the chaos could bite", kills)
	}
	wantSame(t, dst, objs, false)
	for _, p := range c.workers {
		r := p.Kill()
		checkNoSecrets(t, "worker output", r.stdout, r.stderr)
	}
	r := c.master.Kill()
	checkNoSecrets(t, "master output", append(c.masterLog, r.stdout, r.stderr)...)
}

// TestClusterAuth: workers and admin clients without the right token, or
// speaking plaintext to the TLS master, are refused and change nothing.
func TestClusterAuth(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "auth-src"), env.s3Side(t, "auth-dst")
	objs := []object{newObject("a", randomBytes(1000, 1)), newObject("b", randomBytes(2000, 2))}
	putObjects(t, src.direct(), src.bucket, objs)
	cfg := writeJob(t, t.TempDir(), "auth.cfg", append(append(jobLines("auth"), src.lines("src")...), dst.lines("dest")...)...)
	c := newCluster(t)
	wantExit(t, c.admin("submit", cfg), 0)

	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("this-is-not-the-cluster-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Admin: wrong token.
	r := runFerry(t, "stat", "--master", c.addr, "--tls-ca", c.cert.CertFile, "--token-file", wrong)
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "refused our cluster token") {
		t.Errorf("admin with a wrong token: want a clear refusal, got:\n%s", r)
	}
	// Worker: wrong token -> refused, exits with a clear error.
	w := startFerry(t, "worker", "--master", c.addr, "--tls-ca", c.cert.CertFile, "--token-file", wrong, "--name", "intruder")
	r = waitExit(t, w, 20*time.Second)
	if r.code == 0 || !strings.Contains(r.stderr, "token") {
		t.Errorf("worker with a wrong token: want a non-zero exit naming the token, got:\n%s", r)
	}
	// Worker: no token at all -> refuses to start.
	r = runFerry(t, "worker", "--master", c.addr, "--tls-ca", c.cert.CertFile, "--name", "anonymous")
	wantExit(t, r, 2)
	// Worker: plaintext to the TLS master -> never gets work.
	p := startFerry(t, "worker", "--master", c.addr, "--insecure", "--token-file", c.tokenFile, "--name", "plaintext")
	time.Sleep(3 * time.Second)
	p.Kill()

	s, ok := c.stat("auth")
	if !ok {
		t.Fatal("stat with the right token failed")
	}
	if s.Counters.Verified+s.Counters.Failed+s.Counters.Skipped != 0 || s.RunningTasks != 0 {
		t.Errorf("refused clients changed the job: %+v", s)
	}
	if r := c.admin("workers"); strings.Contains(r.stdout, "intruder") || strings.Contains(r.stdout, "plaintext") {
		t.Errorf("a refused worker was registered:\n%s", r.stdout)
	}
	// And the right token works: one worker finishes the job.
	c.startWorker()
	s = c.waitDone("auth", time.Minute, nil)
	if s.Counters.Verified != 2 {
		t.Errorf("after the refusals a good worker verified %d of 2", s.Counters.Verified)
	}
	wantSame(t, dst, objs, false)
}

func waitExit(t *testing.T, p *proc, d time.Duration) result {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if p.Exited() {
			return p.Wait()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p.Kill()
}

// TestClusterThrottle: with a cluster-wide limit, three workers together
// stay within it, and follow a change made while the job runs.
func TestClusterThrottle(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "thr-src"), env.s3Side(t, "thr-dst")
	var objs []object
	for i := range 150 {
		objs = append(objs, newObject(fmt.Sprintf("o%03d", i), randomBytes(1<<20, uint64(i))))
	}
	putObjects(t, src.direct(), src.bucket, objs)
	cfg := writeJob(t, t.TempDir(), "thr.cfg", append(append(jobLines("thr", "maxBytesPerSecond=3m", "taskObjectCountLimit=10"),
		src.lines("src")...), dst.lines("dest")...)...)
	c := newCluster(t)
	for range 3 {
		c.startWorker()
	}
	wantExit(t, c.admin("submit", cfg), 0)

	// rate measures verified bytes per second over a window.
	rate := func(window time.Duration) float64 {
		a, _ := c.stat("thr")
		start := time.Now()
		time.Sleep(window)
		b, _ := c.stat("thr")
		return float64(b.Counters.VerifiedBytes-a.Counters.VerifiedBytes) / time.Since(start).Seconds()
	}
	const tolerance = 1.3       // token buckets and 1 MiB objects landing at window edges
	time.Sleep(3 * time.Second) // workers registered, shares delivered
	slow := rate(8 * time.Second)
	t.Logf("limit 3 MiB/s: measured %.2f MiB/s", slow/(1<<20))
	if slow > 3*(1<<20)*tolerance {
		t.Errorf("three workers together moved %.2f MiB/s under a 3 MiB/s cluster limit", slow/(1<<20))
	}
	// The operator's view while it runs: job block plus per-worker state.
	st := c.admin("stat", "thr")
	wantExit(t, st, 0)
	for _, want := range []string{"JobName: thr", "JobState: Running", "RunningTasks:", "WORKER", "LEASES", "BYTES/S", "LAST HEARTBEAT"} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("stat --master output lacks %q:\n%s", want, st.stdout)
		}
	}
	if strings.Count(st.stdout, " true ") < 3 {
		t.Errorf("stat --master should list three live workers:\n%s", st.stdout)
	}
	wantExit(t, c.admin("throttle", "thr", "--bytes", "9m"), 0)
	time.Sleep(3 * time.Second) // the next heartbeats carry the new shares
	fast := rate(6 * time.Second)
	t.Logf("limit 9 MiB/s: measured %.2f MiB/s", fast/(1<<20))
	if fast > 9*(1<<20)*tolerance {
		t.Errorf("moved %.2f MiB/s under a 9 MiB/s limit", fast/(1<<20))
	}
	if fast < 1.8*slow {
		t.Errorf("raising the limit from 3 to 9 MiB/s took the rate only from %.2f to %.2f MiB/s", slow/(1<<20), fast/(1<<20))
	}
	wantExit(t, c.admin("throttle", "thr", "--bytes", "0"), 0)
	s := c.waitDone("thr", 2*time.Minute, nil)
	if s.Counters.Verified != int64(len(objs)) {
		t.Errorf("verified %d of %d", s.Counters.Verified, len(objs))
	}
}

// TestClusterAudit: an audit job submitted to a master is done by its
// workers, over gRPC (grants marked audit): it finds the object that
// differs and the one missing, with stored checksums alone (S3 to S3, both
// keep a CRC64NVME), so no byte is read, and it writes nothing.
func TestClusterAudit(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "caudit-src"), env.s3Side(t, "caudit-dst")
	a, b := newObject("a", randomBytes(1000, 1)), newObject("b", randomBytes(2000, 2))
	differ, missing := newObject("differ", randomBytes(3000, 3)), newObject("missing", randomBytes(10, 4))
	putObjects(t, src.direct(), src.bucket, []object{a, b, differ, missing})
	dstObjs := []object{a, b, newObject(differ.Key, randomBytes(3000, 5))}
	putObjects(t, dst.direct(), dst.bucket, dstObjs)
	cfg := writeJob(t, t.TempDir(), "caudit.cfg", append(append([]string{"jobName=caudit", "jobType=audit", "taskObjectCountLimit=2"},
		src.lines("src")...), dst.lines("dest")...)...)

	c := newCluster(t)
	c.startWorker()
	wantExit(t, c.admin("submit", cfg), 0)
	s := c.waitDone("caudit", time.Minute, nil)
	if s.JobState != "failed" || s.Counters.Verified != 2 || s.Counters.Failed != 2 {
		t.Errorf("audit ended %q with %d verified, %d failed; want failed, 2, 2", s.JobState, s.Counters.Verified, s.Counters.Failed)
	}
	if s.Counters.Shards != 2 || s.Counters.ShardsDone != 2 {
		t.Errorf("audit: %d shards, %d done; want 2 and 2 (4 objects, 2 a shard)", s.Counters.Shards, s.Counters.ShardsDone)
	}
	if s.Counters.BytesRead != 0 || s.Counters.BytesSent != 0 {
		t.Errorf("audit read %d and sent %d bytes; want 0: the stored checksums decide", s.Counters.BytesRead, s.Counters.BytesSent)
	}
	f := c.admin("failed", "caudit")
	for _, want := range []string{"missing at destination", "checksum differs"} {
		if !strings.Contains(f.stdout, want) {
			t.Errorf("ferry failed does not say %q:\n%s", want, f.stdout)
		}
	}
	wantSame(t, dst, dstObjs, false)
	for _, p := range c.workers {
		p.Kill()
	}
	c.master.Kill()
}
