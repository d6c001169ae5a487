// Command credcmd is the tests' credentials command: it fetches fresh
// credentials from a test's issuer (ossproxy.Issuer.Handler) and prints
// them, as a real helper (Alibaba CLI, an STS client) would. Usage:
//
//	credcmd URL
//
// It writes a line to stderr on every run, as chatty helpers do, so the
// tests can check that ferry logs stderr without the secrets.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: credcmd URL")
		os.Exit(2)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "credcmd:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "credcmd: issuer answered", resp.Status, err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "credcmd: fetched fresh credentials")
	_, _ = os.Stdout.Write(body)
}
