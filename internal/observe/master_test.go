package observe

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

type fakeMaster struct {
	stats   []master.JobStat
	err     error
	workers []master.WorkerInfo
}

func (f *fakeMaster) Stat(string) ([]master.JobStat, error) { return f.stats, f.err }
func (f *fakeMaster) Workers() []master.WorkerInfo          { return f.workers }

func TestMasterCollector(t *testing.T) {
	seen := time.Unix(1700000000, 500_000_000)
	src := &fakeMaster{
		stats: []master.JobStat{{
			Job: "j1", State: "running", Pass: 2, ScanFinished: true,
			Totals: tracker.Counters{Scanned: 10, Verified: 7, VerifiedBytes: 700, Identical: 2, IdenticalBytes: 200,
				Skipped: 1, SkippedBytes: 100, Failed: 2, FailedBytes: 20, BytesRead: 900, BytesSent: 800,
				ServerCopied: 1, ServerCopiedBytes: 50,
				Methods: map[task.Method]int64{task.MethodCRC64: 5, task.MethodMD5: 2}},
			PendingTasks: 3, DispatchedTasks: 1, RunningTasks: 2, SucceedTasks: 4, FailedTasks: 1,
			Listed: 12, Excluded: 2, LeasesGranted: 9, LeasesExpired: 1, StaleRefused: 3, BackoffFactor: 0.5,
		}},
		workers: []master.WorkerInfo{
			{Worker: "w1", Alive: true, Leases: 2, LastSeen: seen},
			{Worker: "gone", Alive: false},
		},
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewMasterCollector(src))
	got := gathered(t, reg)
	want := map[string]float64{
		`ferry_objects_total{ferry_job="j1",outcome="copied"}`:                  5,
		`ferry_objects_total{ferry_job="j1",outcome="verified"}`:                7,
		`ferry_objects_total{ferry_job="j1",outcome="skipped"}`:                 1,
		`ferry_objects_total{ferry_job="j1",outcome="failed"}`:                  2,
		`ferry_object_bytes_total{ferry_job="j1",outcome="copied"}`:             500,
		`ferry_object_bytes_total{ferry_job="j1",outcome="failed"}`:             20,
		`ferry_objects_verified_by_method_total{ferry_job="j1",method="crc64"}`: 5,
		`ferry_objects_verified_by_method_total{ferry_job="j1",method="md5"}`:   2,
		`ferry_bytes_read_total{ferry_job="j1"}`:                                900,
		`ferry_bytes_sent_total{ferry_job="j1"}`:                                800,
		`ferry_server_copied_bytes_total{ferry_job="j1"}`:                       50,
		`ferry_objects_scanned_total{ferry_job="j1"}`:                           10,
		`ferry_scan_listed_objects{ferry_job="j1"}`:                             12,
		`ferry_scan_excluded_objects{ferry_job="j1"}`:                           2,
		`ferry_scan_finished{ferry_job="j1"}`:                                   1,
		`ferry_shards{ferry_job="j1",state="pending"}`:                          3,
		`ferry_shards{ferry_job="j1",state="leased"}`:                           3,
		`ferry_shards{ferry_job="j1",state="succeeded"}`:                        4,
		`ferry_shards{ferry_job="j1",state="failed"}`:                           1,
		`ferry_pass{ferry_job="j1"}`:                                            2,
		`ferry_job_state{ferry_job="j1",state="running"}`:                       1,
		`ferry_backoff_factor{ferry_job="j1"}`:                                  0.5,
		`ferry_leases_granted_total{ferry_job="j1"}`:                            9,
		`ferry_leases_expired_total{ferry_job="j1"}`:                            1,
		`ferry_leases_stale_refused_total{ferry_job="j1"}`:                      3,
		`ferry_workers`:                                         1,
		`ferry_worker_leases{worker="w1"}`:                      2,
		`ferry_worker_last_seen_timestamp_seconds{worker="w1"}`: 1700000000.5,
	}
	for k, v := range want {
		assert.Equal(t, v, got[k], k)
	}
	assert.NotContains(t, got, `ferry_worker_leases{worker="gone"}`, "dead workers are not listed")

	// A stat that fails fails the scrape's master metrics, loudly.
	src.err = errors.New("tracker closed")
	_, err := reg.Gather()
	assert.ErrorContains(t, err, "tracker closed")
}
