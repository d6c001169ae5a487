package observe

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

var _ worker.Observer = (*WorkerMetrics)(nil)

func TestWorkerMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	w := NewWorkerMetrics(reg)
	w.ObjectStarted("j")
	w.ObjectStarted("j")
	w.ObjectStarted("j")
	w.ObjectDone("j", task.Result{Status: task.StatusVerified, Attempts: 3, Duration: time.Second}, true)
	w.ObjectDone("j", task.Result{Status: task.StatusFailed, Class: "permanent", Attempts: 1}, true)
	w.BytesSent("j", 100)
	w.BytesSent("j", 0)
	w.Retried("j")
	w.Throttled("j")
	got := gathered(t, reg)
	for k, v := range map[string]float64{
		`ferry_worker_objects_in_flight{ferry_job="j"}`:                                1,
		`ferry_worker_objects_total{ferry_job="j",outcome="verified"}`:                 1,
		`ferry_worker_objects_total{ferry_job="j",outcome="failed"}`:                   1,
		`ferry_worker_failures_total{class="permanent",ferry_job="j"}`:                 1,
		`ferry_worker_bytes_sent_total{ferry_job="j"}`:                                 100,
		`ferry_retries_total{ferry_job="j",level="object"}`:                            2,
		`ferry_retries_total{ferry_job="j",level="request"}`:                           1,
		`ferry_slowdowns_total{ferry_job="j"}`:                                         1,
		`ferry_worker_object_duration_seconds_count{ferry_job="j",outcome="verified"}`: 1,
		`ferry_worker_object_duration_seconds_sum{ferry_job="j",outcome="verified"}`:   1,
	} {
		assert.Equal(t, v, got[k], k)
	}
	// An object stopped without a result leaves the in-flight gauge and
	// counts nothing.
	w.ObjectDone("j", task.Result{}, false)
	got = gathered(t, reg)
	assert.Equal(t, 0.0, got[`ferry_worker_objects_in_flight{ferry_job="j"}`])
	assert.Equal(t, 1.0, got[`ferry_worker_objects_total{ferry_job="j",outcome="verified"}`])
}
