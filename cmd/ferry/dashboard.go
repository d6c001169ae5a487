package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/ferry-migrate/ferry/dashboard"
)

// dashboardFlags are the dashboard's flags on master and run.
type dashboardFlags struct {
	listen, viewerTokenFile *string
}

func addDashboardFlags(fs *flag.FlagSet) dashboardFlags {
	return dashboardFlags{
		listen: fs.String("dashboard-listen", "", "serve the web dashboard over HTTPS on `ADDR` (e.g. :8443), "+
			"with the TLS certificate and key, guarded by the cluster token; empty: off"),
		viewerTokenFile: fs.String("dashboard-token-file", "", "file holding a read-only dashboard token: "+
			"it views jobs and workers but cannot pause, resume or throttle"),
	}
}

// dashSide is a command's dashboard: listening from the start, so a bad
// address fails the command at once, serving once there is a master.
type dashSide struct {
	e    *env
	lis  net.Listener
	cfg  dashboard.Config
	stop context.CancelFunc
	done chan struct{}
}

// dashSecurity is what guards the dashboard: the command's TLS and
// token settings.
type dashSecurity struct {
	cert, key, token string
	insecure         bool
}

// openDashboard checks the flags and listens; nil when --dashboard-listen
// is empty.
func openDashboard(e *env, f dashboardFlags, sec dashSecurity, log *slog.Logger) (*dashSide, error) {
	if *f.listen == "" {
		if *f.viewerTokenFile != "" {
			return nil, fmt.Errorf("--dashboard-token-file needs --dashboard-listen")
		}
		return nil, nil
	}
	cfg := dashboard.Config{OperatorToken: sec.token, Insecure: sec.insecure, Log: log}
	switch {
	case sec.cert != "" && sec.key != "":
		tc, err := dashboard.LoadTLS(sec.cert, sec.key)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	case !sec.insecure:
		return nil, fmt.Errorf("--dashboard-listen needs --tls-cert and --tls-key (or --insecure for a try-out on localhost)")
	}
	if *f.viewerTokenFile != "" {
		b, err := os.ReadFile(*f.viewerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("--dashboard-token-file: %w", err)
		}
		cfg.ViewerToken = strings.TrimSpace(string(b))
		if cfg.ViewerToken == "" {
			return nil, fmt.Errorf("--dashboard-token-file %s is empty", *f.viewerTokenFile)
		}
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", *f.listen)
	if err != nil {
		return nil, fmt.Errorf("--dashboard-listen %s: %w", *f.listen, err)
	}
	if cfg.TLS == nil {
		fmt.Fprintln(e.stderr, "ferry: WARNING: --insecure: the dashboard is plain HTTP. The token you log in with and the "+
			"session cookie cross the network in clear text; use it only on localhost.")
	}
	return &dashSide{e: e, lis: lis, cfg: cfg}, nil
}

// serve starts serving b until ctx ends or close.
func (d *dashSide) serve(ctx context.Context, b dashboard.Backend) error {
	if d == nil {
		return nil
	}
	d.cfg.Backend = b
	s, err := dashboard.New(d.cfg)
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	d.stop, d.done = stop, make(chan struct{})
	scheme := "https"
	if d.cfg.TLS == nil {
		scheme = "http"
	}
	fmt.Fprintf(d.e.stderr, "ferry: dashboard on %s://%s/\n", scheme, d.lis.Addr())
	go func() {
		defer close(d.done)
		if err := s.Serve(sctx, d.lis); err != nil && sctx.Err() == nil {
			fmt.Fprintln(d.e.stderr, "ferry: dashboard stopped:", err)
		}
	}()
	return nil
}

// close stops the dashboard (or its listener, when it never served).
func (d *dashSide) close() {
	if d == nil {
		return
	}
	if d.stop == nil {
		_ = d.lis.Close()
		return
	}
	d.stop()
	<-d.done
}
