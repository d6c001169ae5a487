package observe

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-migrate/ferry/task"
)

// WorkerMetrics counts what a worker process does (a cluster worker, or
// the in-process worker of `ferry run`); it is the worker.Observer that
// cmd/ferry hands the agent and its copiers. The master's metrics say
// what the job achieved; these say what this process is doing, so that a
// slow or throttled worker stands out.
type WorkerMetrics struct {
	inFlight  *prometheus.GaugeVec
	objects   *prometheus.CounterVec
	failures  *prometheus.CounterVec
	bytesSent *prometheus.CounterVec
	retries   *prometheus.CounterVec
	slowdowns *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// NewWorkerMetrics registers a worker's metrics on reg.
func NewWorkerMetrics(reg prometheus.Registerer) *WorkerMetrics {
	w := &WorkerMetrics{
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ferry_worker_objects_in_flight",
			Help: "Objects this worker is copying (or comparing) now."}, []string{"ferry_job"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_worker_objects_total",
			Help: "Objects this worker finished, by outcome (verified, skipped, failed)."}, []string{"ferry_job", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_worker_failures_total",
			Help: "Objects this worker failed, by error class (permanent, retryable: gave up after its attempts, fatal, canceled)."},
			[]string{"ferry_job", "class"}),
		bytesSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_worker_bytes_sent_total",
			Help: "Bytes this worker sent to destinations, as they go (retries included)."}, []string{"ferry_job"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_retries_total",
			Help: "Retries by this worker: storage requests retried after a transient error (level=request), objects attempted again (level=object)."},
			[]string{"ferry_job", "level"}),
		slowdowns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_slowdowns_total",
			Help: "SlowDown (503/429) answers this worker's copies met."}, []string{"ferry_job"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ferry_worker_object_duration_seconds",
			Help:    "Time to finish one object (all attempts), by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}, []string{"ferry_job", "outcome"}),
	}
	reg.MustRegister(w.inFlight, w.objects, w.failures, w.bytesSent, w.retries, w.slowdowns, w.duration)
	return w
}

// ObjectStarted implements worker.Observer.
func (w *WorkerMetrics) ObjectStarted(job string) { w.inFlight.WithLabelValues(job).Inc() }

// ObjectDone implements worker.Observer.
func (w *WorkerMetrics) ObjectDone(job string, res task.Result, ok bool) {
	w.inFlight.WithLabelValues(job).Dec()
	if !ok {
		return
	}
	outcome := res.Status.String()
	w.objects.WithLabelValues(job, outcome).Inc()
	w.duration.WithLabelValues(job, outcome).Observe(res.Duration.Seconds())
	if res.Status == task.StatusFailed && res.Class != "" {
		w.failures.WithLabelValues(job, res.Class).Inc()
	}
	if res.Attempts > 1 {
		w.retries.WithLabelValues(job, "object").Add(float64(res.Attempts - 1))
	}
}

// BytesSent implements worker.Observer.
func (w *WorkerMetrics) BytesSent(job string, n int64) {
	if n > 0 {
		w.bytesSent.WithLabelValues(job).Add(float64(n))
	}
}

// Retried implements worker.Observer.
func (w *WorkerMetrics) Retried(job string) { w.retries.WithLabelValues(job, "request").Inc() }

// Throttled implements worker.Observer.
func (w *WorkerMetrics) Throttled(job string) { w.slowdowns.WithLabelValues(job).Inc() }
