package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ferry-migrate/ferry/internal/observe"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/client"
)

// workerFlags are the flags of `ferry worker`.
type workerFlags struct {
	master, ca, cert, key, serverName, tokenFile, name string
	logFormat, httpListen                              string
	insecure, verbose                                  bool
	concurrency                                        int
}

func (f *workerFlags) register(fs *flag.FlagSet, e *env, host string) {
	fs.StringVar(&f.master, "master", e.getenv("FERRY_MASTER"), "master address host:port (env FERRY_MASTER; required)")
	fs.StringVar(&f.ca, "tls-ca", e.getenv("FERRY_TLS_CA"), "CA certificate that signed the master's (env FERRY_TLS_CA; empty: system roots)")
	fs.StringVar(&f.cert, "tls-cert", "", "client certificate, when the master requires one")
	fs.StringVar(&f.key, "tls-key", "", "client certificate key")
	fs.StringVar(&f.serverName, "server-name", "", "name to verify in the master's certificate (default: the host in --master)")
	fs.StringVar(&f.tokenFile, "token-file", e.getenv("FERRY_TOKEN_FILE"), "file holding the cluster token (env FERRY_TOKEN_FILE; else $FERRY_TOKEN)")
	fs.BoolVar(&f.insecure, "insecure", false, "talk to the master without TLS (throwaway test clusters only: the token and job credentials cross in clear)")
	fs.IntVar(&f.concurrency, "concurrency", 16, "objects copied at once")
	fs.StringVar(&f.name, "name", fmt.Sprintf("%s-%d", host, os.Getpid()), "worker name, unique in the cluster")
	fs.BoolVar(&f.verbose, "verbose", false, "log every object, not only shards and problems")
	fs.StringVar(&f.httpListen, "http-listen", "", "serve Prometheus /metrics, /healthz and /readyz over plain HTTP on `ADDR` (e.g. :9090); "+
		"no TLS, no token: nothing secret or controlling is served, keep it on a cluster-internal network; empty: off")
	fs.StringVar(&f.logFormat, "log-format", "text", "log line format: text (key=value) or json (one object a line, for log collectors)")
}

// security checks the flags and loads the token.
func (f *workerFlags) security(e *env) (rpcauth.Config, error) {
	switch {
	case f.master == "":
		return rpcauth.Config{}, errors.New("--master HOST:PORT is required (or set FERRY_MASTER)")
	case f.concurrency < 1 || f.concurrency > 4096:
		return rpcauth.Config{}, fmt.Errorf("--concurrency %d: give a number from 1 to 4096", f.concurrency)
	case f.name == "":
		return rpcauth.Config{}, errors.New("--name: give a name unique in the cluster")
	case (f.cert == "") != (f.key == ""):
		return rpcauth.Config{}, errors.New("--tls-cert and --tls-key go together")
	case f.insecure && (f.ca != "" || f.cert != ""):
		return rpcauth.Config{}, errors.New("--insecure turns TLS off: drop --tls-ca/--tls-cert/--tls-key, or drop --insecure")
	}
	tok, err := rpcauth.LoadToken(f.tokenFile, e.getenv)
	if err != nil {
		return rpcauth.Config{}, err
	}
	return rpcauth.Config{CAFile: f.ca, CertFile: f.cert, KeyFile: f.key, ServerName: f.serverName, Token: tok, Insecure: f.insecure}, nil
}

// cmdWorker runs a cluster worker: it registers with the master, leases
// shards of any job, copies them and reports, until SIGINT/SIGTERM. It
// waits for a master that is away (at start or later) instead of exiting,
// so a supervisor need not order the start of master and workers.
func cmdWorker(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	host, _ := os.Hostname()
	if host == "" {
		host = "worker"
	}
	var f workerFlags
	f.register(fs, e, host)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ferry worker --master HOST:PORT [flags]\n\n"+
			"Copies shards for a ferry master until stopped (SIGINT/SIGTERM).\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fail(e, fmt.Errorf("ferry worker takes no arguments, got %q", fs.Args()))
	}
	sec, err := f.security(e)
	if err != nil {
		return fail(e, err)
	}
	if f.insecure {
		fmt.Fprintln(e.stderr, "ferry worker: INSECURE: talking to the master without TLS; the cluster token and the jobs' credentials cross the network in clear text")
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log, err := newLogger(e.stderr, f.logFormat, level)
	if err != nil {
		return fail(e, err)
	}
	// Served before dialing: the worker is alive (not ready) while it
	// waits for its master.
	web, err := serveHTTP(ctx, e, f.httpListen, "not registered with the master yet", log)
	if err != nil {
		return fail(e, err)
	}
	defer web.close()
	obs := web.workerMetrics()
	cl, err := client.Dial(ctx, f.master, sec, client.Options{Name: f.name, Hostname: host, Concurrency: f.concurrency,
		Version: version, Log: log, Observer: obs})
	if err != nil {
		return workerExit(ctx, e, err)
	}
	defer cl.Close()
	// Ready while the master answers: registered, and a heartbeat
	// answered within the master's own limit for declaring a worker dead.
	web.setReady(observe.HeartbeatCheck(cl.LastContact, func() time.Duration { return renewEvery(cl) }, time.Now))
	agent := &worker.Agent{Name: f.name, Master: cl, CopierFor: cl.CopierFor, Concurrency: f.concurrency,
		RenewEvery: renewEvery(cl), Log: log, Observer: obs}
	return workerExit(ctx, e, agent.Run(ctx))
}

// renewEvery is the master's heartbeat period, kept under a third of its
// lease TTL so that one late heartbeat never costs a lease.
func renewEvery(cl *client.Client) time.Duration {
	d := cl.HeartbeatEvery()
	if ttl := cl.LeaseTTL(); ttl > 0 && d > ttl/3 {
		d = ttl / 3
	}
	return d
}

// workerExit maps how the worker stopped to an exit code: a signal is the
// normal end (0: the agent reported what it had on the way out); anything
// else, such as a refused token, is an error (2).
func workerExit(ctx context.Context, e *env, err error) int {
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "ferry worker: stopped")
		return exitOK
	}
	fmt.Fprintln(e.stderr, "ferry worker:", err)
	return exitError
}
