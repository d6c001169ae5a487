// Package observe serves what operators and orchestrators look at over
// plain HTTP: Prometheus metrics (/metrics), liveness (/healthz) and
// readiness (/readyz), for `ferry master`, `ferry worker` and `ferry run`
// (--http-listen). It exposes no secret and no control, so it has neither
// TLS nor a token; keep it on a cluster-internal network.
//
// The metrics come from the core packages without their importing a
// metrics library: the master's are read from its stat when scraped
// (MasterCollector), the worker's are counted by a worker.Observer
// (WorkerMetrics).
package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the HTTP listener of one process. More handlers (the master's
// dashboard) are added with Handle before Serve.
type Server struct {
	mux   *http.ServeMux
	ready *Readiness
	log   *slog.Logger
}

// NewServer serves reg's metrics on /metrics, 200 "ok" on /healthz for as
// long as the process serves at all, and ready's verdict on /readyz.
func NewServer(reg *prometheus.Registry, ready *Readiness, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{mux: http.NewServeMux(), ready: ready, log: log}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A collector that fails (a tracker read) costs its metrics, not
		// the whole scrape.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slogPrinter{log},
	}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	return s
}

// Handle adds a handler, with http.ServeMux patterns ("GET /dashboard/").
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the server's whole handler (tests use it with httptest).
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.ready.Check(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, oneLine(err.Error()))
		return
	}
	fmt.Fprintln(w, "ok")
}

// Listen opens addr, so that a port in use is reported before the
// command does anything else.
func Listen(addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http-listen %s: %w", addr, err)
	}
	return lis, nil
}

// Serve serves on lis until ctx ends, then shuts down, giving requests in
// flight a moment to finish.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(lis)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return fmt.Errorf("http server on %s: %w", lis.Addr(), err)
}

// Start serves on lis in the background until ctx ends; an error of the
// server is logged (the process goes on: its HTTP side is an aid, not its
// work). The returned wait blocks until the server has stopped.
func (s *Server) Start(ctx context.Context, lis net.Listener) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(ctx, lis); err != nil {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	return func() { <-done }
}

// slogPrinter lets promhttp log through slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: " + fmt.Sprint(v...)) }

func oneLine(s string) string {
	for i, c := range s {
		if c == '\n' || c == '\r' {
			return s[:i]
		}
	}
	return s
}
