// Command ferry migrates object storage: `ferry run job.cfg` copies a
// source to a destination and verifies every object; `ferry stat`,
// `failed`, `retry` and `clean` inspect and manage jobs. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/ferry-migrate/ferry/internal/gcpolicy"
)

// Exit codes. Scripts can tell "some objects failed" (rerun or inspect)
// from "could not run at all" (fix the config or the environment).
const (
	exitOK       = 0
	exitFailures = 1 // the job ran; some objects failed (see `ferry failed`)
	exitError    = 2 // bad flags, bad config, fatal storage error
	exitCanceled = 130
)

// version is set at build time with -ldflags "-X main.version=..." (make
// build and scripts/demo.sh stamp `git describe`). Without it, init uses
// the version the go command records in the binary, so `go install
// ...@v1.2.3` or a plain `go build` in a checkout still names a release or
// commit; "dev" is left only when neither is known.
var version = "dev"

func init() {
	if version != "dev" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, env *env, args []string) int
}

func commands() []command {
	return []command{
		{"run", "run a job in this process (scan, copy, verify); resumes if interrupted", cmdRun},
		{"plan", "size a job before running it: objects, bytes, requests, rate, nodes for a deadline", cmdPlan},
		{"stat", "show a job's state (OssImport-style block, or --json)", cmdStat},
		{"jobs", "list jobs in the data dir", cmdJobs},
		{"failed", "list a job's failed objects with their errors", cmdFailed},
		{"snapshots", "list a snapshot backup job's snapshots (--all: removed ones too)", cmdSnapshots},
		{"retry", "queue a job's failed objects again (then `ferry run` it)", cmdRetry},
		{"cutover", "a guided cutover: start (T1, full copy), switch --at T2, finish (the report), status", cmdCutover},
		{"clean", "delete a job's state from the data dir", cmdClean},
		{"master", "run a master: jobs, scans and shard leases behind gRPC (distributed mode)", cmdMaster},
		{"submit", "send a job to a master (distributed mode)", cmdSubmit},
		{"worker", "copy shards for a master until stopped (distributed mode)", cmdWorker},
		{"workers", "list a master's workers", cmdWorkers},
		{"pause", "stop granting a job's shards on a master", cmdPause},
		{"resume", "grant a paused or canceled job's shards again", cmdResume},
		{"cancel", "stop a job on a master and take its leases back", cmdCancel},
		{"throttle", "change a job's cluster-wide bandwidth / object rate while it runs", cmdThrottle},
		{"credentials", "give a running job on a master new static keys (secrets from files or stdin)", cmdCredentials},
		{"version", "print the version (also --version, -v)", cmdVersion},
		{"help", "show a command's arguments and flags: ferry help COMMAND", cmdHelp},
	}
}

// env is what every command gets: streams and the environment, so tests
// can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	gcpolicy.Apply(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(dispatch(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

func dispatch(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stdout)
		return exitError
	}
	name := args[0]
	switch {
	case isHelpFlag(name):
		name = "help" // `ferry -h run` is `ferry help run`
	case name == "-v" || name == "-version" || name == "--version":
		name = "version"
	}
	if c, ok := lookup(name); ok {
		return c.run(ctx, e, args[1:])
	}
	return unknownCommand(e, name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ferry <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --data-dir (default $FERRY_DATA_DIR, else ./ferry-data).")
	fmt.Fprintln(w, "Run `ferry help <command>` (or `ferry <command> -h`) for its arguments and flags.")
}

func cmdVersion(_ context.Context, e *env, args []string) int {
	if len(args) > 0 && isHelpFlag(args[0]) {
		fmt.Fprintln(e.stderr, "usage: ferry version\n\nPrints ferry's version; `ferry --version` and `ferry -v` do the same.")
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "ferry version: takes no arguments, got %q\n", args)
		return exitError
	}
	printVersion(e.stdout)
	return exitOK
}

// fail prints err and returns the exit code for it.
func fail(e *env, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(e.stderr, "ferry: interrupted; state is saved, run the same command again to resume")
		return exitCanceled
	}
	fmt.Fprintln(e.stderr, "ferry:", err)
	return exitError
}
