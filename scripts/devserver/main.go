// Command devserver runs a local S3 server (versitygw over TLS with a
// throwaway certificate) for the quickstart and for trying ferry by hand.
// It writes the connection details to an env file and runs until
// interrupted.
//
//	go run ./scripts/devserver -dir demo-data/s3 -bucket demo-dest -env demo-data/s3.env
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

func main() {
	dir := flag.String("dir", "demo-data/s3", "state directory (certificate, buckets)")
	buckets := flag.String("bucket", "demo", "buckets to create, comma-separated")
	envFile := flag.String("env", "", "write FERRY_DEMO_* connection variables to this file (0600)")
	bin := flag.String("versitygw", "", "versitygw binary (default: .cache/bin/versitygw)")
	addr := flag.String("addr", "", "listen address (default: a free 127.0.0.1 port)")
	flag.Parse()
	if err := run(*dir, *buckets, *envFile, *bin, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(dir, buckets, envFile, bin, addr string) error {
	if bin == "" {
		root, err := testserver.ModuleRoot()
		if err != nil {
			return err
		}
		cache := os.Getenv("FERRY_CACHE")
		if cache == "" {
			cache = filepath.Join(root, ".cache")
		}
		bin = filepath.Join(cache, "bin", "versitygw")
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("versitygw not found at %s: run `make testservers` first", bin)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	srv, err := testserver.StartVersitygw(bin, abs, testserver.Options{Addr: addr})
	if err != nil {
		return err
	}
	defer srv.Stop()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, b := range strings.Split(buckets, ",") {
		if b = strings.TrimSpace(b); b != "" {
			if err := srv.MakeBucket(ctx, b); err != nil {
				return err
			}
		}
	}
	if envFile != "" {
		env := fmt.Sprintf("FERRY_DEMO_ENDPOINT=%s\nFERRY_DEMO_CA=%s\nFERRY_DEMO_ACCESS_KEY=%s\nFERRY_DEMO_SECRET_KEY=%s\nFERRY_DEMO_PID=%d\n",
			srv.Endpoint, srv.Cert.CertFile, srv.AccessKey, srv.SecretKey, os.Getpid())
		tmp := envFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(env), 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, envFile); err != nil {
			return err
		}
	}
	fmt.Printf("devserver: S3 (versitygw) at %s, CA %s, buckets %s\n", srv.Endpoint, srv.Cert.CertFile, buckets)
	<-ctx.Done()
	return nil
}
