package observe

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/task"
)

// MasterSource is what MasterCollector reads: master.Manager.
type MasterSource interface {
	Stat(job string) ([]master.JobStat, error)
	Workers() []master.WorkerInfo
}

// MasterCollector exports a master's jobs and workers, read from its stat
// when scraped: nothing is counted twice, and /metrics agrees with
// `ferry stat --json` by construction. The per-job object and byte
// counters are the job's totals over all its passes (JobStat.Totals), so
// they only grow while the job exists.
type MasterCollector struct {
	src MasterSource

	objects, bytes, methods              *prometheus.Desc
	bytesRead, bytesSent                 *prometheus.Desc
	serverObjects, serverBytes           *prometheus.Desc
	scanned, listed, excluded, scanDone  *prometheus.Desc
	shards, pass, state, backoff         *prometheus.Desc
	granted, expired, stale, workers     *prometheus.Desc
	deleted                              *prometheus.Desc
	workerLeases, workerLastSeenUnixSecs *prometheus.Desc
}

// NewMasterCollector reads src at every scrape.
func NewMasterCollector(src MasterSource) *MasterCollector {
	job := []string{"ferry_job"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string{}, job...), labels...), nil)
	}
	return &MasterCollector{src: src,
		objects:       d("ferry_objects_total", "Objects with a result, by outcome (copied: written and verified; verified: copied or proven identical; skipped; failed), over all passes.", "outcome"),
		bytes:         d("ferry_object_bytes_total", "Bytes of the objects with a result, by outcome, over all passes.", "outcome"),
		methods:       d("ferry_objects_verified_by_method_total", "Verified objects by verification method, over all passes.", "method"),
		bytesRead:     d("ferry_bytes_read_total", "Bytes read from the source, retries included, over all passes."),
		bytesSent:     d("ferry_bytes_sent_total", "Bytes sent to the destination, retries included, over all passes."),
		serverObjects: d("ferry_server_copied_objects_total", "Objects the destination copied server-side from a base snapshot, over all passes."),
		serverBytes:   d("ferry_server_copied_bytes_total", "Bytes the destination copied server-side from a base snapshot, over all passes."),
		scanned:       d("ferry_objects_scanned_total", "Objects the scans put into shards (after filters), over all passes."),
		listed:        d("ferry_scan_listed_objects", "Objects listed by this master's scan of the current pass."),
		excluded:      d("ferry_scan_excluded_objects", "Of the objects listed in the current pass, those dropped by importSince/include/exclude."),
		scanDone:      d("ferry_scan_finished", "1 when the current pass's scan is finished, else 0."),
		shards:        d("ferry_shards", "Shards of the current pass by state: pending (queued), leased, succeeded, failed.", "state"),
		pass:          d("ferry_pass", "The job's current (or last) pass number."),
		state:         d("ferry_job_state", "1 for the job's state (running, paused, succeeded, failed, canceled).", "state"),
		backoff:       d("ferry_backoff_factor", "The factor (at most 1) the SlowDown backoff applies to the job's cluster-wide limits; 1: no backoff."),
		granted:       d("ferry_leases_granted_total", "Shard leases granted since the master started."),
		expired:       d("ferry_leases_expired_total", "Shard leases reclaimed since the master started: past their deadline, or their worker declared dead."),
		stale:         d("ferry_leases_stale_refused_total", "Results, acks and nacks refused since the master started because their lease was no longer current."),
		deleted:       d("ferry_objects_deleted_total", "Destination objects deleted by delete propagation, over all passes."),
		workers:       prometheus.NewDesc("ferry_workers", "Live workers registered with the master.", nil, nil),
		workerLeases:  prometheus.NewDesc("ferry_worker_leases", "Shards a live worker holds, over all jobs.", []string{"worker"}, nil),
		workerLastSeenUnixSecs: prometheus.NewDesc("ferry_worker_last_seen_timestamp_seconds",
			"When the master last heard from a live worker (Unix time).", []string{"worker"}, nil),
	}
}

func (c *MasterCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{c.objects, c.bytes, c.methods, c.bytesRead, c.bytesSent, c.serverObjects, c.serverBytes,
		c.scanned, c.listed, c.excluded, c.scanDone, c.shards, c.pass, c.state, c.backoff, c.granted, c.expired,
		c.stale, c.deleted, c.workers, c.workerLeases, c.workerLastSeenUnixSecs}
}

// Describe implements prometheus.Collector.
func (c *MasterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *MasterCollector) Collect(ch chan<- prometheus.Metric) {
	stats, err := c.src.Stat("")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.objects, err)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range stats {
		t, j := s.Totals, s.Job
		for _, o := range []struct {
			outcome        string
			objects, bytes int64
		}{
			{"copied", t.Verified - t.Identical, t.VerifiedBytes - t.IdenticalBytes},
			{"verified", t.Verified, t.VerifiedBytes},
			{"skipped", t.Skipped, t.SkippedBytes},
			{"failed", t.Failed, t.FailedBytes},
		} {
			counter(c.objects, o.objects, j, o.outcome)
			counter(c.bytes, o.bytes, j, o.outcome)
		}
		methods := make([]string, 0, len(t.Methods))
		for m := range t.Methods {
			methods = append(methods, string(m))
		}
		sort.Strings(methods)
		for _, m := range methods {
			counter(c.methods, t.Methods[task.Method(m)], j, m)
		}
		counter(c.bytesRead, t.BytesRead, j)
		counter(c.bytesSent, t.BytesSent, j)
		counter(c.serverObjects, t.ServerCopied, j)
		counter(c.serverBytes, t.ServerCopiedBytes, j)
		counter(c.scanned, t.Scanned, j)
		counter(c.deleted, t.Deleted, j)
		gauge(c.listed, float64(s.Listed), j)
		gauge(c.excluded, float64(s.Excluded), j)
		gauge(c.scanDone, boolValue(s.ScanFinished), j)
		for _, sh := range []struct {
			state string
			n     int64
		}{
			{"pending", s.PendingTasks},
			{"leased", s.DispatchedTasks + s.RunningTasks},
			{"succeeded", s.SucceedTasks},
			{"failed", s.FailedTasks},
		} {
			gauge(c.shards, float64(sh.n), j, sh.state)
		}
		gauge(c.pass, float64(s.Pass), j)
		gauge(c.state, 1, j, s.State)
		backoff := s.BackoffFactor
		if backoff <= 0 {
			backoff = 1 // no observation yet
		}
		gauge(c.backoff, backoff, j)
		counter(c.granted, s.LeasesGranted, j)
		counter(c.expired, s.LeasesExpired, j)
		counter(c.stale, s.StaleRefused, j)
	}
	live := 0
	for _, w := range c.src.Workers() {
		if !w.Alive {
			continue
		}
		live++
		gauge(c.workerLeases, float64(w.Leases), w.Worker)
		gauge(c.workerLastSeenUnixSecs, float64(w.LastSeen.UnixMilli())/1000, w.Worker)
	}
	gauge(c.workers, float64(live))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
