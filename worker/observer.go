package worker

import "github.com/ferry-migrate/ferry/task"

// Observer hears of a worker's work as it happens, for metrics. The worker
// core only calls it: what is counted, and how it is exported, is the
// caller's (cmd/ferry wires it to Prometheus), so this package needs no
// metrics library. Implementations must be quick and safe for concurrent
// use: they are called from every copy goroutine.
type Observer interface {
	// ObjectStarted: a copy goroutine took an object of job.
	ObjectStarted(job string)
	// ObjectDone: the object has its result (ok) or its copy stopped
	// without one (ok false: the run stopped, the lease was lost or the
	// error was fatal; the object stays with its shard).
	ObjectDone(job string, res task.Result, ok bool)
	// BytesSent: n more bytes of job's objects went to the destination
	// (Options.Progress; retried bytes count again).
	BytesSent(job string, n int64)
	// Retried: the storage layer retried a request of job's after a
	// transient error (a SlowDown among them).
	Retried(job string)
	// Throttled: a server asked job's copies to slow down
	// (Options.OnThrottled).
	Throttled(job string)
}

// Hooks returns o with Progress, OnThrottled and OnRetry also telling obs
// of job's bytes, SlowDowns and retries, keeping the callbacks already
// set: a cluster worker's heartbeat stats and an observer both hear them.
// A nil obs returns o as it is.
func Hooks(o Options, job string, obs Observer) Options {
	if obs == nil {
		return o
	}
	progress, throttled, retried := o.Progress, o.OnThrottled, o.OnRetry
	o.Progress = func(d int64) {
		if progress != nil {
			progress(d)
		}
		obs.BytesSent(job, d)
	}
	o.OnThrottled = func() {
		if throttled != nil {
			throttled()
		}
		obs.Throttled(job)
	}
	o.OnRetry = func(err error) {
		if retried != nil {
			retried(err)
		}
		obs.Retried(job)
	}
	return o
}
