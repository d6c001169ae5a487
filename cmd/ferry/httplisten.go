package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-migrate/ferry/internal/observe"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/worker"
)

// addHTTPListen registers --http-listen on master, worker and run.
func addHTTPListen(fs *flag.FlagSet) *string {
	return fs.String("http-listen", "", "serve Prometheus /metrics, /healthz and /readyz over plain HTTP on `ADDR` (e.g. :9090); "+
		"no TLS, no token: nothing secret or controlling is served, keep it on a cluster-internal network; empty: off")
}

// httpSide is a command's --http-listen server; a nil *httpSide is off,
// and its methods do nothing.
type httpSide struct {
	reg   *prometheus.Registry
	ready *observe.Readiness
	// srv takes more handlers (the master's dashboard) before requests
	// need them; it serves from the start, so /healthz answers while the
	// command still waits for its tracker or its master.
	srv  *observe.Server
	stop context.CancelFunc
	wait func()
}

// serveHTTP starts serving on addr (nil, nil when addr is empty), not
// ready for notReady until the command says so. close stops it.
func serveHTTP(ctx context.Context, e *env, addr, notReady string, log *slog.Logger) (*httpSide, error) {
	if addr == "" {
		return nil, nil
	}
	lis, err := observe.Listen(addr)
	if err != nil {
		return nil, err
	}
	h := &httpSide{reg: observe.NewRegistry(), ready: observe.NewReadiness(notReady)}
	h.srv = observe.NewServer(h.reg, h.ready, log)
	sctx, stop := context.WithCancel(ctx)
	h.stop, h.wait = stop, h.srv.Start(sctx, lis)
	fmt.Fprintf(e.stderr, "ferry: metrics and health on http://%s (/metrics, /healthz, /readyz)\n", lis.Addr())
	return h, nil
}

// close stops the server and waits for it.
func (h *httpSide) close() {
	if h != nil {
		h.stop()
		h.wait()
	}
}

// workerMetrics registers a worker's metrics; nil (an untyped nil
// interface, which the worker skips) when off.
func (h *httpSide) workerMetrics() worker.Observer {
	if h == nil {
		return nil
	}
	return observe.NewWorkerMetrics(h.reg)
}

// masterMetrics exports the master's jobs and workers, read when scraped.
func (h *httpSide) masterMetrics(m *master.Manager) {
	if h != nil {
		h.reg.MustRegister(observe.NewMasterCollector(m))
	}
}

// setReady makes check decide readiness (nil: ready from now on).
func (h *httpSide) setReady(check func() error) {
	if h == nil {
		return
	}
	if check == nil {
		h.ready.SetReady()
		return
	}
	h.ready.Set(check)
}
