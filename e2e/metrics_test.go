package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
)

// freeAddr is a 127.0.0.1 address nothing listens on (for --http-listen).
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// httpGet returns the status and body of GET http://addr/path; code 0
// when nothing answers.
func httpGet(addr, path string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitHTTP polls addr/path until it answers code.
func waitHTTP(t testing.TB, addr, path string, code int, deadline time.Duration) {
	t.Helper()
	end := time.Now().Add(deadline)
	var got int
	var body string
	for time.Now().Before(end) {
		if got, body = httpGet(addr, path); got == code {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s%s: want %d within %s, last %d %q", addr, path, code, deadline, got, body)
}

// scrape reads addr's /metrics into name{label="value",...} -> value, the
// labels sorted by name.
func scrape(t testing.TB, addr string) map[string]float64 {
	t.Helper()
	code, body := httpGet(addr, "/metrics")
	if code != 200 {
		t.Fatalf("GET %s/metrics: %d %s", addr, code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[key] = m.GetUntyped().GetValue()
			}
		}
	}
	return out
}

// statCounters is `ferry stat --json` for one job: the pass's counters
// and the totals over all passes.
type statCounters struct {
	JobName  string   `json:"job_name"`
	Pass     uint64   `json:"pass"`
	Counters counters `json:"counters"`
	Totals   counters `json:"totals"`
}

// wantMetric fails unless the sample key has value want.
func wantMetric(t testing.TB, m map[string]float64, key string, want int64) {
	t.Helper()
	got, ok := m[key]
	if !ok {
		t.Errorf("/metrics has no %s", key)
		return
	}
	if got != float64(want) {
		t.Errorf("%s = %v; the job's report says %d", key, got, want)
	}
}

// TestMetricsMatchReport: `ferry run --http-listen` of a scheduled local
// to S3 job, scraped after its first pass (the schedule keeps the process
// up): the per-job counters on /metrics equal the pass report and
// `ferry stat --json`, object and byte counts by outcome, transfer bytes
// and verification methods; the worker's own counters agree; liveness
// and readiness answer 200.
func TestMetricsMatchReport(t *testing.T) {
	env := newS3Env(t)
	srcDir := t.TempDir()
	dst := env.s3Side(t, "metrics-dst")
	var objs []object
	for i := range 24 {
		objs = append(objs, newObject(fmt.Sprintf("m/obj-%02d.bin", i), randomBytes(1000+i*517, uint64(i))))
	}
	objs = append(objs, newObject("m/big.bin", randomBytes(threshold+MiB, 99))) // multipart: a second method
	writeLocal(t, srcDir, objs)
	job := "metrics"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job, "schedule=@every 1h"),
		localSide(srcDir).lines("src")...), dst.lines("dest")...)...)
	data := dataDir(t)
	addr := freeAddr(t)

	p := startFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", "--http-listen", addr, cfg)
	waitHTTP(t, addr, "/healthz", 200, 30*time.Second)
	rep := waitReport(t, p, 1, 2*time.Minute)
	waitHTTP(t, addr, "/readyz", 200, 5*time.Second)

	var stats []statCounters
	sj := runFerry(t, "stat", "--json", "--data-dir", data, job)
	wantExit(t, sj, 0)
	if err := json.Unmarshal([]byte(sj.stdout), &stats); err != nil {
		t.Fatalf("stat --json does not parse: %v\n%s", err, sj)
	}
	if len(stats) != 1 {
		t.Fatalf("stat --json: want one job, got %+v", stats)
	}
	st := stats[0]
	m := scrape(t, addr)

	c := st.Totals
	if c.Verified != int64(len(objs)) || rep.Counters.Verified != c.Verified || st.Counters.Verified != c.Verified {
		t.Fatalf("the job did not verify all %d objects: report %+v, stat %+v", len(objs), rep.Counters, st)
	}
	l := func(more string) string { return fmt.Sprintf(`{ferry_job=%q%s}`, job, more) }
	o := func(name, outcome string) string { return name + l(fmt.Sprintf(`,outcome=%q`, outcome)) }
	wantMetric(t, m, o("ferry_objects_total", "verified"), c.Verified)
	wantMetric(t, m, o("ferry_objects_total", "copied"), c.Verified-c.Identical)
	wantMetric(t, m, o("ferry_objects_total", "skipped"), c.Skipped)
	wantMetric(t, m, o("ferry_objects_total", "failed"), c.Failed)
	wantMetric(t, m, o("ferry_object_bytes_total", "verified"), c.VerifiedBytes)
	wantMetric(t, m, o("ferry_object_bytes_total", "failed"), c.FailedBytes)
	wantMetric(t, m, "ferry_bytes_sent_total"+l(""), c.BytesSent)
	wantMetric(t, m, "ferry_bytes_read_total"+l(""), c.BytesRead)
	wantMetric(t, m, "ferry_objects_scanned_total"+l(""), c.Scanned)
	if len(methods(c.Methods)) < 2 {
		t.Errorf("want two verification methods (single and multipart), stat says %v", c.Methods)
	}
	for method, n := range methods(c.Methods) {
		wantMetric(t, m, "ferry_objects_verified_by_method_total"+l(fmt.Sprintf(`,method=%q`, method)), n)
	}
	wantMetric(t, m, "ferry_scan_finished"+l(""), 1)
	wantMetric(t, m, "ferry_pass"+l(""), 1)
	wantMetric(t, m, "ferry_workers", 1)
	// The in-process worker counted the same objects itself.
	wantMetric(t, m, o("ferry_worker_objects_total", "verified"), c.Verified)
	wantMetric(t, m, "ferry_worker_objects_in_flight"+l(""), 0)
	if m["ferry_worker_bytes_sent_total"+l("")] < float64(totalSize(objs)) {
		t.Errorf("ferry_worker_bytes_sent_total = %v; want at least the %d bytes of the objects",
			m["ferry_worker_bytes_sent_total"+l("")], totalSize(objs))
	}
	if m["ferry_leases_granted_total"+l("")] < 1 {
		t.Errorf("no lease granted in /metrics")
	}
	if m["go_goroutines"] <= 0 || m["process_resident_memory_bytes"] <= 0 {
		t.Errorf("Go runtime and process metrics missing")
	}
	p.Kill()
}

// TestMetricsCluster: a master and a worker, each with --http-listen,
// copy an S3 to S3 job. Both are ready; the master's /metrics has the
// job's counters as stat has them and leases granted, the worker's has
// the bytes it sent. With the master killed, the worker turns unready
// within a few heartbeats, while it stays alive.
func TestMetricsCluster(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "mc-src"), env.s3Side(t, "mc-dst")
	var objs []object
	for i := range 30 {
		objs = append(objs, newObject(fmt.Sprintf("c/obj-%02d.bin", i), randomBytes(2000+i*311, uint64(100+i))))
	}
	putObjects(t, src.direct(), src.bucket, objs)
	job := "metrics-cluster"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job), src.lines("src")...), dst.lines("dest")...)...)

	maddr, waddr := freeAddr(t), freeAddr(t)
	c := newCluster(t, "--http-listen", maddr)
	waitHTTP(t, maddr, "/readyz", 200, 20*time.Second)
	w := c.startWorker("--http-listen", waddr)
	waitHTTP(t, waddr, "/readyz", 200, 20*time.Second)
	wantExit(t, c.admin("submit", cfg), 0)
	s := c.waitDone(job, 2*time.Minute, nil)
	if s.JobState != "succeeded" || s.Counters.Verified != int64(len(objs)) {
		t.Fatalf("job ended %q with %+v", s.JobState, s.Counters)
	}

	m := scrape(t, maddr)
	l := fmt.Sprintf(`{ferry_job=%q}`, job)
	wantMetric(t, m, fmt.Sprintf(`ferry_objects_total{ferry_job=%q,outcome="verified"}`, job), s.Counters.Verified)
	wantMetric(t, m, fmt.Sprintf(`ferry_objects_total{ferry_job=%q,outcome="failed"}`, job), s.Counters.Failed)
	wantMetric(t, m, "ferry_bytes_sent_total"+l, s.Counters.BytesSent)
	wantMetric(t, m, "ferry_workers", 1)
	if m["ferry_leases_granted_total"+l] < 1 {
		t.Errorf("master: ferry_leases_granted_total = %v, want > 0", m["ferry_leases_granted_total"+l])
	}
	wm := scrape(t, waddr)
	if wm["ferry_worker_bytes_sent_total"+l] < float64(totalSize(objs)) {
		t.Errorf("worker: ferry_worker_bytes_sent_total = %v, want at least %d", wm["ferry_worker_bytes_sent_total"+l], totalSize(objs))
	}
	wantMetric(t, wm, fmt.Sprintf(`ferry_worker_objects_total{ferry_job=%q,outcome="verified"}`, job), s.Counters.Verified)

	// Master gone: 3 heartbeats of 1s without an answer, then 503.
	c.killMaster()
	killed := time.Now()
	waitHTTP(t, waddr, "/readyz", 503, 15*time.Second)
	t.Logf("worker unready %s after the master died", time.Since(killed).Round(100*time.Millisecond))
	if code, body := httpGet(waddr, "/readyz"); !strings.Contains(body, "no answer from the master") {
		t.Errorf("/readyz %d %q: want the reason", code, body)
	}
	waitHTTP(t, waddr, "/healthz", 200, time.Second)
	if c.workers[w].Exited() {
		t.Errorf("the worker exited with its master gone")
	}
}

// TestMetricsSlowDowns: the destination answers SlowDown to the first
// PUTs of some objects; the worker's SlowDown and retry counters show
// them, and every object still verifies.
func TestMetricsSlowDowns(t *testing.T) {
	env := newS3Env(t)
	srcDir := t.TempDir()
	dst := env.ossSide(t, "metrics-slow")
	var objs []object
	for i := range 6 {
		objs = append(objs, newObject(fmt.Sprintf("slow/obj-%d.bin", i), randomBytes(3000+i, uint64(200+i))))
	}
	writeLocal(t, srcDir, objs)
	const refused = 4
	env.proxy.Inject(ossproxy.Fault{Kind: ossproxy.SlowDown, Method: "PUT", KeyContains: "slow/obj-", Times: refused})
	job := "metrics-slow"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job, "schedule=@every 1h"),
		localSide(srcDir).lines("src")...), dst.lines("dest")...)...)
	addr := freeAddr(t)
	p := startFerry(t, "run", "--data-dir", dataDir(t), "--progress", "none", "--json", "--http-listen", addr, cfg)
	rep := waitReport(t, p, 1, 2*time.Minute)
	if rep.Counters.Verified != int64(len(objs)) || rep.Counters.Failed != 0 {
		t.Fatalf("want all %d verified despite the SlowDowns: %+v", len(objs), rep.Counters)
	}
	m := scrape(t, addr)
	l := fmt.Sprintf(`{ferry_job=%q}`, job)
	if got := m["ferry_slowdowns_total"+l]; got < refused {
		t.Errorf("ferry_slowdowns_total = %v; the destination refused %d PUTs with SlowDown", got, refused)
	}
	// A streamed PUT cannot be replayed by the request layer: the copier
	// attempts the object again, so the retries show at either level.
	retries := m[fmt.Sprintf(`ferry_retries_total{ferry_job=%q,level="request"}`, job)] +
		m[fmt.Sprintf(`ferry_retries_total{ferry_job=%q,level="object"}`, job)]
	if retries < refused {
		t.Errorf("ferry_retries_total = %v over both levels; want at least %d", retries, refused)
	}
	p.Kill()
}
