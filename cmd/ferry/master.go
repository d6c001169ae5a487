package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/master/server"
	"github.com/ferry-migrate/ferry/tracker"
)

// cmdMaster runs a master: jobs' scanners and shard brokers behind gRPC,
// until SIGINT/SIGTERM. Everything it knows is in --data-dir, so a
// restarted master resumes its jobs and workers re-register.
func cmdMaster(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "master", "")
	listen := fs.String("listen", "127.0.0.1:7443", "address to serve workers and admin commands on; 0.0.0.0:7443 for workers on other hosts")
	cert := fs.String("tls-cert", "", "the master's TLS certificate (PEM)")
	key := fs.String("tls-key", "", "the master's TLS key (PEM)")
	clientCA := fs.String("client-ca", "", "CA certificates that sign client certificates; set it to require them (mutual TLS)")
	tokenFile := fs.String("token-file", e.getenv("FERRY_TOKEN_FILE"), "file holding the cluster token (env FERRY_TOKEN_FILE; else $FERRY_TOKEN)")
	insecure := fs.Bool("insecure", false, "serve without TLS: the token and job credentials cross the network in clear text (throwaway test clusters only)")
	leaseTTL := fs.Duration("lease-ttl", 30*time.Second, "how long a worker holds a shard without renewing it")
	heartbeat := fs.Duration("heartbeat", 5*time.Second, "how often workers heartbeat; a worker silent for 3 heartbeats is dead and its shards go to others")
	logFormat := addLogFormat(fs)
	httpListen := addHTTPListen(fs)
	dashFlags := addDashboardFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the master to `FILE` until it stops (read it with go tool pprof; for performance reports)")
	if err := parse(fs, args, 0, 0); err != nil {
		return flagExit(err)
	}
	if *cpuProfile != "" {
		// Written on a clean stop (SIGINT/SIGTERM); a killed master
		// leaves an empty or partial file.
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return fail(e, err)
		}
		defer stop()
	}
	if *heartbeat < 100*time.Millisecond || *leaseTTL < 2**heartbeat {
		return fail(e, fmt.Errorf("--lease-ttl %v must be at least twice --heartbeat %v (and --heartbeat at least 100ms), or live workers lose their shards", *leaseTTL, *heartbeat))
	}
	tok, err := rpcauth.LoadToken(*tokenFile, e.getenv)
	if err != nil {
		return fail(e, err)
	}
	log, err := newLogger(e.stderr, *logFormat, slog.LevelInfo)
	if err != nil {
		return fail(e, err)
	}
	auth := rpcauth.Config{CertFile: *cert, KeyFile: *key, CAFile: *clientCA, Token: tok, Insecure: *insecure}
	if *insecure {
		fmt.Fprintln(e.stderr, "ferry: WARNING: --insecure: no TLS. The cluster token and the jobs' storage credentials "+
			"cross the network in clear text. Use it only for a throwaway test cluster.")
	} else if *cert == "" || *key == "" {
		return fail(e, fmt.Errorf("ferry master needs --tls-cert and --tls-key (or --insecure for a throwaway test cluster)"))
	}

	// The dashboard is guarded as the gRPC side is: the same certificate,
	// the cluster token (or a read-only one), and --insecure only by choice.
	dash, err := openDashboard(e, dashFlags, dashSecurity{cert: *cert, key: *key, token: tok, insecure: *insecure}, log)
	if err != nil {
		return fail(e, err)
	}
	defer dash.close()
	web, err := serveHTTP(ctx, e, *httpListen, "opening the tracker and restoring jobs", log)
	if err != nil {
		return fail(e, err)
	}
	defer web.close()
	// Created when missing: a new master starts with an empty data dir. The
	// wait covers a previous master still exiting (systemd restart).
	st, err := tracker.Open(*dataDir, tracker.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		return fail(e, err)
	}
	defer st.Close()
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: *dataDir, LeaseTTL: *leaseTTL,
		Heartbeat: *heartbeat, Log: log})
	if err != nil {
		return fail(e, err)
	}
	if err := m.Start(ctx); err != nil {
		return fail(e, err)
	}
	defer m.Close()
	web.masterMetrics(m)
	if err := dash.serve(ctx, m); err != nil {
		return fail(e, err)
	}
	web.setReady(nil) // tracker open, jobs restored
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(e, fmt.Errorf("--listen %s: %w", *listen, err))
	}
	mode := "TLS"
	switch {
	case *insecure:
		mode = "INSECURE, no TLS"
	case *clientCA != "":
		mode = "TLS, client certificates required"
	}
	fmt.Fprintf(e.stderr, "ferry master listening on %s (%s)\n", lis.Addr(), mode)
	if err := server.New(m, log).Serve(ctx, lis, auth); err != nil {
		return fail(e, err)
	}
	fmt.Fprintln(e.stderr, "ferry master: stopped; state is saved in", *dataDir)
	return exitOK
}
