// Package dashboard is ferry's live web page: jobs with their progress,
// rate and ETA, throughput over time, workers, failed objects, and pause,
// resume and throttle for an operator. A master (`ferry master
// --dashboard-listen`) and a standalone run (`ferry run
// --dashboard-listen`) serve it from their in-process master.Manager.
//
// It is guarded as the gRPC side is: TLS with the master's certificate,
// and the cluster token (operator) or a separate read-only token (viewer).
// A browser logs in once and then holds a session cookie with a random id;
// the token itself is never stored in the browser. The numbers come from
// the Manager's Stat through package statjson, the same conversion
// `ferry stat --json` prints, so the page and the CLI agree.
package dashboard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

// Backend is what the dashboard reads and controls; *master.Manager is
// one. Kept to these methods so tests can fake it.
type Backend interface {
	Stat(job string) ([]master.JobStat, error)
	Workers() []master.WorkerInfo
	Failed(job string, limit int) ([]tracker.Entry, error)
	Pause(ctx context.Context, job string) error
	Resume(ctx context.Context, job string) error
	SetThrottle(ctx context.Context, job string, bytesPerSecond int64, objectsPerSecond float64) error
}

// Config configures a dashboard.
type Config struct {
	Backend Backend
	// OperatorToken (the cluster token) may view and control;
	// ViewerToken ("" for none) may only view.
	OperatorToken, ViewerToken string
	// TLS serves HTTPS; nil only when Insecure is set.
	TLS      *tls.Config
	Insecure bool
	// SessionTTL bounds a login (default 12h). SampleEvery is the
	// throughput chart's resolution (default 5s); History how far back it
	// goes (default 30 minutes).
	SessionTTL  time.Duration
	SampleEvery time.Duration
	History     time.Duration
	// FailedLimit is how many failed objects a job page lists (default
	// 100); `ferry failed JOB` lists them all.
	FailedLimit int
	Log         *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Check says whether the tokens and TLS settings can guard a dashboard,
// so a command fails before it listens.
func (cfg Config) Check() error {
	if len(cfg.OperatorToken) < minTokenLen {
		return fmt.Errorf("dashboard: the operator token is %d characters; use at least %d", len(cfg.OperatorToken), minTokenLen)
	}
	if cfg.ViewerToken != "" && len(cfg.ViewerToken) < minTokenLen {
		return fmt.Errorf("dashboard: the read-only token is %d characters; use at least %d", len(cfg.ViewerToken), minTokenLen)
	}
	if cfg.ViewerToken == cfg.OperatorToken {
		return errors.New("dashboard: the read-only token must differ from the cluster token")
	}
	if cfg.TLS == nil && !cfg.Insecure {
		return errors.New("dashboard: needs TLS (a certificate and key), or insecure for a try-out")
	}
	return nil
}

// Server is a dashboard: its handler, sessions and throughput history.
type Server struct {
	cfg      Config
	sessions *sessions
	history  *history
	pages    *pages
	mux      *http.ServeMux
}

// New checks cfg and returns a dashboard; Serve (or Handler plus
// Sample) runs it.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("dashboard: no backend")
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = 5 * time.Second
	}
	if cfg.History <= 0 {
		cfg.History = 30 * time.Minute
	}
	if cfg.FailedLimit <= 0 {
		cfg.FailedLimit = 100
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, sessions: newSessions(cfg.SessionTTL, cfg.Now), pages: pg,
		history: newHistory(int(cfg.History / cfg.SampleEvery))}
	s.mux = s.routes()
	return s, nil
}

// Handler is the dashboard's HTTP handler, security headers included.
func (s *Server) Handler() http.Handler { return secureHeaders(s.mux) }

// Serve serves the dashboard on lis until ctx ends, sampling throughput
// meanwhile.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	if s.cfg.TLS != nil {
		lis = tls.NewListener(lis, s.cfg.TLS)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelDebug)}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s.sampleLoop(ctx)
	}()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	select {
	case err := <-done:
		<-sampled
		return fmt.Errorf("dashboard: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	<-sampled
	return err
}

// sampleLoop records every job's counters each SampleEvery, so the chart
// has history when a page opens.
func (s *Server) sampleLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SampleEvery)
	defer t.Stop()
	s.Sample()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sample()
		}
	}
}

// Sample records one throughput sample of every job now.
func (s *Server) Sample() {
	stats, err := s.cfg.Backend.Stat("")
	if err != nil {
		s.cfg.Log.Warn("dashboard: reading stats for the chart", "err", err)
		return
	}
	s.history.add(s.cfg.Now(), stats)
}

// LoadTLS is the TLS config for a certificate and key in PEM files.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("dashboard TLS: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
