package testserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// S3Server is a running versitygw. Its buckets are directories under Root;
// create objects through the S3 API only (files placed in Root directly lack
// versitygw's metadata and HEAD on them answers 400).
type S3Server struct {
	Endpoint  string // https://127.0.0.1:PORT
	Addr      string // 127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
	Cert      *Cert
	Root      string

	// UserAccessKey/UserSecretKey belong to a non-admin user that owns no
	// bucket: its requests to the root user's buckets are denied. Set only
	// when Options.WithUser was given.
	UserAccessKey string
	UserSecretKey string

	mu      sync.Mutex    // guards cmd and exited: Stop may run from a signal handler too
	cmd     *exec.Cmd     // nil once stopped
	exited  chan struct{} // closed once cmd.Wait has returned (the child is reaped)
	logFile string
}

// Options adjust the server.
type Options struct {
	// VirtualDomain enables virtual-hosted bucket addressing under this base
	// domain (e.g. "localhost": bucket b answers at b.localhost:PORT).
	VirtualDomain string
	// WithUser creates a second, non-admin account (see S3Server.UserAccessKey).
	WithUser bool
	// AccessKey/SecretKey of the root account; random when empty.
	AccessKey, SecretKey string
	// Addr to listen on (127.0.0.1:PORT); a free port when empty.
	Addr string
}

// Versitygw starts versitygw over TLS on a free loopback port with a fresh
// root directory, and stops it when the test ends.
func Versitygw(t testing.TB, opt Options) *S3Server {
	t.Helper()
	bin := Binary(t, "versitygw")
	s, err := StartVersitygw(bin, t.TempDir(), opt)
	if err != nil {
		Unavailable(t, "%v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartVersitygw starts versitygw (the binary at bin) with its certificate,
// root and IAM data under dir. The caller stops it with Stop.
func StartVersitygw(bin, dir string, opt Options) (*S3Server, error) {
	cert, err := MakeCert(dir)
	if err != nil {
		return nil, err
	}
	s := &S3Server{
		Region:    "us-east-1",
		AccessKey: "ferrytestroot",
		SecretKey: "ferry-test-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Cert:      cert,
		Root:      filepath.Join(dir, "root"),
		logFile:   filepath.Join(dir, "versitygw.log"),
	}
	if opt.AccessKey != "" {
		s.AccessKey, s.SecretKey = opt.AccessKey, opt.SecretKey
	}
	if err := os.MkdirAll(s.Root, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if lastErr = s.start(bin, dir, opt); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, fmt.Errorf("versitygw did not start: %w", lastErr)
	}
	if opt.WithUser {
		s.UserAccessKey, s.UserSecretKey = "ferrytestuser", "ferry-user-secret"
		out, err := exec.Command(bin, "admin", "--access", s.AccessKey, "--secret", s.SecretKey,
			"--endpoint-url", s.Endpoint, "--allow-insecure",
			"create-user", "--access", s.UserAccessKey, "--secret", s.UserSecretKey, "--role", "user").CombinedOutput()
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("versitygw admin create-user: %v: %s", err, out)
		}
	}
	return s, nil
}

func (s *S3Server) start(bin, dir string, opt Options) error {
	s.Addr = opt.Addr
	if s.Addr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	s.Endpoint = "https://" + s.Addr
	// --keep-alive: versitygw otherwise answers every request with
	// "Connection: close", so every request of every client pays a fresh TLS
	// handshake on both ends. Real S3 and OSS endpoints keep connections
	// alive; without this the benchmarks measured handshakes (half of every
	// tool's CPU on small objects), not copying.
	args := []string{"--port", s.Addr, "--cert", s.Cert.CertFile, "--key", s.Cert.KeyFile,
		"--region", s.Region, "--quiet", "--keep-alive", "--iam-dir", filepath.Join(dir, "iam")}
	if opt.VirtualDomain != "" {
		args = append(args, "--virtual-domain", opt.VirtualDomain)
	}
	args = append(args, "posix", s.Root)
	if err := os.MkdirAll(filepath.Join(dir, "iam"), 0o700); err != nil {
		return err
	}
	log, err := os.Create(s.logFile)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	// Credentials go through the environment so they do not show in ps.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	// Exactly one goroutine waits for the child; everyone else (start's
	// readiness loop, Stop) learns of its end from exited, so the child is
	// always reaped and never left <defunct>.
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); log.Close(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			out, _ := os.ReadFile(s.logFile)
			return fmt.Errorf("versitygw exited: %v: %s", waitErr, bytes.TrimSpace(out))
		default:
		}
		if s.ready() {
			s.mu.Lock()
			s.cmd, s.exited = cmd, exited
			s.mu.Unlock()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("versitygw not answering on %s after 15s", s.Addr)
}

func (s *S3Server) ready() bool {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.Cert.Pool}}}
	resp, err := c.Get(s.Endpoint + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// Pid is the server process's id (0 once stopped), for benchmarks that
// account its CPU time.
func (s *S3Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop kills the server and returns once the process has been waited for,
// so no <defunct> versitygw outlives it, even when the caller exits right
// after (scripts/devserver does). Safe to call twice, and concurrently.
func (s *S3Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// LocalhostDialer dials 127.0.0.1 for any host that is localhost or ends in
// .localhost, so virtual-hosted requests (bucket.localhost:PORT) reach a
// loopback server without touching /etc/hosts or DNS.
func LocalhostDialer(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func splitPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
