package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/statjson"
	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/master"
)

// withClient runs fn with the admin client the flags name and closes it.
func withClient(e *env, rf remoteFlags, dataDir string, fn func(admin.Client) error) error {
	c, err := rf.client(e, dataDir)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

func cmdSubmit(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "submit", "JOB.cfg")
	rf := addRemoteFlags(fs, e)
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if err := rf.needMaster("submit", fmt.Sprintf("; to run a job here, use `ferry run %s`", fs.Arg(0))); err != nil {
		return fail(e, err)
	}
	text, name, _, err := readForMaster(rf, fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	var (
		jobName string
		notes   []string
	)
	err = withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
		jobName, notes, err = c.Submit(ctx, text, name)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	for _, n := range notes {
		fmt.Fprintln(e.stderr, "note:", n)
	}
	fmt.Fprintf(e.stdout, "job %q submitted to %s; `ferry stat --master %s %s` follows it\n", jobName, *rf.master, *rf.master, jobName)
	return exitOK
}

// readForMaster reads a job config to send to a master. It is parsed
// here first: a typo is reported with line numbers before the config
// (with its credentials) leaves this machine. The name is absolute: the
// master resolves relative local paths against the config's directory.
func readForMaster(rf remoteFlags, path string) (text, name string, job *conf.Job, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", nil, err
	}
	job, err = conf.Parse(bytes.NewReader(b), path)
	if err != nil {
		return "", "", nil, err
	}
	if *rf.insecure && job.HasCredentials() {
		return "", "", nil, fmt.Errorf("%s carries credentials and --insecure would send them in clear text: remove the "+
			"access keys from it and give the master and workers OSS_*/AWS_* environment variables, or use TLS", path)
	}
	name, err = filepath.Abs(path)
	if err != nil {
		return "", "", nil, err
	}
	return string(b), name, job, nil
}

// jobCall makes a command of an admin call that takes a job name and
// answers its state (pause, resume, ...), on a master only.
func jobCall(name, summary string, call func(admin.Client, context.Context, string) (string, error)) func(context.Context, *env, []string) int {
	return func(ctx context.Context, e *env, args []string) int {
		fs, dataDir := flags(e, name, "JOB")
		rf := addRemoteFlags(fs, e)
		if err := parse(fs, args, 1, 1); err != nil {
			return flagExit(err)
		}
		if err := rf.needMaster(name, ": it "+summary); err != nil {
			return fail(e, err)
		}
		var state string
		err := withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
			state, err = call(c, ctx, fs.Arg(0))
			return err
		})
		if err != nil {
			return fail(e, err)
		}
		fmt.Fprintf(e.stdout, "job %q: %s\n", fs.Arg(0), state)
		return exitOK
	}
}

var (
	cmdPause  = jobCall("pause", "stops granting the job's shards (running ones finish)", admin.Client.Pause)
	cmdResume = jobCall("resume", "grants the job's shards again", admin.Client.Resume)
	cmdCancel = jobCall("cancel", "stops the job and takes its leases back (resume continues it)", admin.Client.Cancel)
)

func cmdThrottle(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "throttle", "JOB")
	rf := addRemoteFlags(fs, e)
	bps := fs.String("bytes", "0", "cluster-wide bytes per second (size suffixes: 100m, 1g); 0 = unlimited")
	ops := fs.Float64("objects", 0, "cluster-wide objects per second; 0 = unlimited")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if err := rf.needMaster("throttle", "; a standalone job takes maxBytesPerSecond in its .cfg"); err != nil {
		return fail(e, err)
	}
	n, err := conf.ParseSize(*bps)
	if err != nil || n < 0 || *ops < 0 {
		return fail(e, fmt.Errorf("--bytes %q / --objects %v: give sizes like 100m and rates of 0 or more", *bps, *ops))
	}
	err = withClient(e, rf, *dataDir, func(c admin.Client) error {
		_, err := c.Throttle(ctx, fs.Arg(0), n, *ops)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "job %q: throttle set to %s/s and %g objects/s across the cluster (0 = unlimited)\n", fs.Arg(0), bytesIEC(n), *ops)
	return exitOK
}

func cmdWorkers(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "workers", "")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return flagExit(err)
	}
	if err := rf.needMaster("workers", ": `ferry run` has no remote workers"); err != nil {
		return fail(e, err)
	}
	var ws []master.WorkerInfo
	err := withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
		ws, err = c.Workers(ctx)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if *asJSON {
		out := statjson.Workers(ws)
		return printJSON(e, out)
	}
	printWorkers(e, ws)
	return exitOK
}

func printWorkers(e *env, ws []master.WorkerInfo) {
	fmt.Fprintf(e.stdout, "%-24s %-6s %6s %7s %10s %12s %s\n", "WORKER", "ALIVE", "CONC", "LEASES", "OBJECTS/S", "BYTES/S", "LAST HEARTBEAT")
	for _, w := range ws {
		fmt.Fprintf(e.stdout, "%-24s %-6t %6d %7d %10.1f %12s %s ago\n", w.Worker, w.Alive, w.Concurrency, w.Leases,
			w.ObjectsPerSecond, bytesIEC(w.BytesPerSecond)+"/s", time.Since(w.LastSeen).Round(time.Second))
	}
}

func printJSON(e *env, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(e, err)
	}
	return exitOK
}
