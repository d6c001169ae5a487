package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/admin/remote"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/client"
)

// result is everything one run measured; JSON on stdout.
type result struct {
	Objects     int     `json:"objects"`
	Workers     int     `json:"workers"`
	Concurrency int     `json:"concurrency"`
	CopyMs      float64 `json:"copy_ms"`
	ShardObjs   int     `json:"shard_objects"`
	LoadStart   string  `json:"loadavg_start"`
	LoadEnd     string  `json:"loadavg_end"`

	ScanSeconds float64 `json:"scan_seconds"` // submit -> the master says the scan finished
	ListPages   int64   `json:"list_pages"`
	WallSeconds float64 `json:"wall_seconds"` // submit -> every object verified

	// Objects recorded per second: the master's verified counter over
	// the steady part of the run (first verified object to the kill, or
	// to the end), and the best 5 s window.
	SteadyRate float64 `json:"steady_objects_per_s"`
	PeakRate   float64 `json:"peak5s_objects_per_s"`

	// Master process figures, both lives together where they add up.
	MasterCPU      float64 `json:"master_cpu_s"`
	CPUPerMObjects float64 `json:"master_cpu_s_per_million"`
	MasterHWMMiB   float64 `json:"master_peak_rss_mib"`
	MasterRSSMiB   float64 `json:"master_rss_end_mib"`
	WriteMiB       float64 `json:"master_disk_write_mib"`
	WriteCalls     int64   `json:"master_write_syscalls"`
	DataDirMiB     float64 `json:"data_dir_mib"`
	HarnessCPU     float64 `json:"harness_cpu_s"`

	Steady  map[string]summary `json:"latency_steady"`
	Restart map[string]summary `json:"latency_after_restart,omitempty"`

	Killed          bool    `json:"killed"`
	KilledAt        int64   `json:"killed_at_verified"`
	LeasingAgainS   float64 `json:"leasing_again_s"`        // kill -> first lease with work from the new master
	FullSpeedAgainS float64 `json:"full_speed_again_s"`     // kill -> a 5 s window at >= 90% of the steady rate before it
	PreKillRate     float64 `json:"pre_kill_objects_per_s"` // the baseline of full_speed_again_s: the steady rate
	PreKill10s      float64 `json:"pre_kill_10s_objects_per_s"`

	Verified, Failed, Skipped int64
	Reported                  int64 `json:"reported_incl_repeats"`
	Unanswered                int64 `json:"reported_unanswered"`
	Missing, Repeated         int   // keys never reported / reported more than once (after a restart)
	Correct                   bool
	Problems                  []string `json:",omitempty"`
}

// sample is one second of the run as the monitor saw it.
type sample struct {
	t        time.Time
	verified int64
}

func run(ctx context.Context, o options) (*result, error) {
	if err := os.RemoveAll(o.work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.work, 0o700); err != nil {
		return nil, err
	}
	if !o.keepData {
		defer os.RemoveAll(o.work)
	}
	cert, err := testserver.MakeCert(o.work)
	if err != nil {
		return nil, err
	}
	tokb := make([]byte, 32)
	_, _ = rand.Read(tokb)
	tok := hex.EncodeToString(tokb)
	tokenFile := filepath.Join(o.work, "token")
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		return nil, err
	}
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &listing{n: o.objects, size: o.size, etag: zeroETag(o.size)}
	fs3 := &fakeS3{src: "src", l: l, mtime: mtime.Format(time.RFC3339)}
	sctx, stopS3 := context.WithCancel(context.Background())
	defer stopS3()
	endpoint, err := serveS3(sctx, fs3, cert.TLS)
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	ma := masterArgs{bin: o.ferry, dataDir: filepath.Join(o.work, "data"), addr: addr, cert: cert.CertFile, key: cert.KeyFile,
		tokenFile: tokenFile, profile: o.profile, leaseTTL: o.leaseTTL, heartbeat: o.heartbeatEvery,
		cpus: o.masterCPUs}
	logPath := filepath.Join(o.work, "master.log")
	if o.keepData {
		logf("master log: %s", logPath)
	}
	res := &result{Objects: o.objects, Workers: o.workers, Concurrency: o.concurrency, CopyMs: ms(o.copy), ShardObjs: o.shardObjects, LoadStart: loadavg()}
	mp, err := startMaster(ctx, ma, logPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = mp.stop() }() // the current one: m.watch may replace it
	auth := rpcauth.Config{CAFile: cert.CertFile, Token: tok}
	adm, err := remote.Dial(addr, auth, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	if err := waitUp(ctx, adm); err != nil {
		return nil, fmt.Errorf("master did not come up: %w (log %s)", err, logPath)
	}
	job := fmt.Sprintf(`jobName=scale
srcType=s3
srcDomain=%[1]s
srcBucket=src
srcAccessKey=scale
srcSecretKey=scale-secret
srcPathStyle=true
srcCABundle=%[2]s
destType=s3
destDomain=%[1]s
destBucket=dst
destAccessKey=scale
destSecretKey=scale-secret
destPathStyle=true
destCABundle=%[2]s
`, endpoint, cert.CertFile)
	if o.shardObjects > 0 {
		job += fmt.Sprintf("taskObjectCountLimit=%d\n", o.shardObjects)
	}

	// Workers first, so they are polling when the first shard appears and
	// the scan runs under the load of a busy cluster, as it would.
	var cur atomic.Pointer[ops]
	steady, after := &ops{}, &ops{}
	cur.Store(steady)
	tl := newTally(o.objects)
	var leased lastLease
	src := &simSource{l: l, mtime: mtime, copy: o.copy, jitter: o.jitter}
	cp, err := worker.NewCopier(worker.Options{Src: src, Dst: newSimDest()})
	if err != nil {
		return nil, err
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var wg sync.WaitGroup
	if err := startWorkers(wctx, o, addr, auth, &wg, func(name string, c *client.Client) *worker.Agent {
		return &worker.Agent{Name: name, Master: &timed{Master: c, cur: &cur, tally: tl, leasing: leased.set}, Copier: cp,
			Concurrency: o.concurrency, RenewEvery: c.HeartbeatEvery(), Log: slog.New(slog.DiscardHandler)}
	}); err != nil {
		return nil, err
	}
	logf("%d workers registered; submitting %d objects (load %s)", o.workers, o.objects, loadavg())

	submitted := time.Now()
	jobID, _, err := adm.Submit(ctx, job, "scale.cfg")
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	m := &monitor{o: o, adm: adm, job: jobID, res: res, ma: ma, logPath: logPath, mp: mp, submitted: submitted,
		switchOps: func() { cur.Store(after) }, leased: &leased}
	err = m.watch(ctx)
	mp = m.mp
	stopWorkers()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	res.ListPages = fs3.Pages.Load()
	res.Steady = steady.summaries()
	if res.Killed {
		res.Restart = after.summaries()
	}
	res.Reported, res.Unanswered = tl.reported.Load(), tl.unanswered.Load()
	res.Missing, res.Repeated = tl.check()
	res.DataDirMiB = float64(dirSize(ma.dataDir)) / (1 << 20)
	if ps, err := readProc(mp.pid); err == nil {
		m.addLife(ps)
		res.MasterRSSMiB = ps.RSSMiB
	}
	res.MasterCPU, res.WriteMiB, res.WriteCalls = m.cpu, float64(m.writeBytes)/(1<<20), m.writeCalls
	res.MasterHWMMiB = m.hwm
	res.CPUPerMObjects = res.MasterCPU / (float64(o.objects) / 1e6)
	if ps, err := readProc(os.Getpid()); err == nil {
		res.HarnessCPU = ps.CPUSeconds
	}
	res.LoadEnd = loadavg()
	res.Correct = true
	if o.workers == 0 {
		return res, stopMaster(mp, o)
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			res.Correct = false
			res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		}
	}
	check(res.Verified == int64(o.objects), "the master verified %d objects, want exactly %d", res.Verified, o.objects)
	check(res.Failed == 0 && res.Skipped == 0, "failed %d, skipped %d", res.Failed, res.Skipped)
	check(res.Missing == 0, "%d keys were never reported by any worker", res.Missing)
	check(tl.foreign.Load() == 0, "%d results for keys the listing never made", tl.foreign.Load())
	return res, stopMaster(mp, o)
}

// stopMaster stops the master cleanly, which is when its profile is
// written; a failure to stop is only worth a line when a profile was asked.
func stopMaster(mp *masterProc, o options) error {
	if err := mp.stop(); err != nil && o.profile != "" {
		logf("master stop: %v", err)
	}
	return nil
}

// startWorkers registers o.workers workers, o.dialers at a time, and
// runs each one's agent until ctx ends.
func startWorkers(ctx context.Context, o options, addr string, auth rpcauth.Config, wg *sync.WaitGroup,
	agent func(string, *client.Client) *worker.Agent) error {
	sem := make(chan struct{}, o.dialers)
	errs := make(chan error, o.workers)
	var reg sync.WaitGroup
	for i := range o.workers {
		name := fmt.Sprintf("sim-%04d", i)
		sem <- struct{}{}
		reg.Add(1)
		go func() {
			defer reg.Done()
			c, err := client.Dial(ctx, addr, auth, client.Options{Name: name, Hostname: "scalebench", Concurrency: o.concurrency,
				Version: "scalebench"})
			<-sem
			if err != nil {
				errs <- fmt.Errorf("worker %s: %w", name, err)
				return
			}
			a := agent(name, c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if err := a.Run(ctx); err != nil && ctx.Err() == nil {
					logf("worker %s stopped: %v", name, err)
				}
			}()
		}()
	}
	reg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitUp polls the master until it answers.
func waitUp(ctx context.Context, adm *remote.Client) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := adm.Stat(ctx, "")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
