package testserver

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Nginx is a running nginx (Debian's nginx-light: it has the referer and
// secure_link modules) serving Root over plain HTTP on a loopback port.
type Nginx struct {
	URL  string // http://127.0.0.1:PORT
	Addr string
	Root string // the document root: write files here to serve them
	// ErrorLog is nginx's error log, for failure messages.
	ErrorLog string
}

// NginxOptions shape the server block.
type NginxOptions struct {
	// Server is configuration placed inside the server block, after
	// listen and root: locations, valid_referers, secure_link, ...
	Server string
}

// nobody is the account nginx runs as when the tests run as root (CI
// does): a test server never needs privileges.
const nobody = 65534

// StartNginx starts nginx in the foreground with a config, prefix, pid
// file and logs of its own in a fresh directory, and stops it when the
// test ends. Missing nginx fails under CI=true and skips elsewhere
// (`apt-get install nginx-light`).
func StartNginx(t testing.TB, opt NginxOptions) *Nginx {
	t.Helper()
	bin := nginxBinary(t)
	// Not t.TempDir: its parents are mode 0700, and nginx runs as
	// nobody when the tests run as root.
	dir, err := os.MkdirTemp("", "ferry-nginx-")
	if err != nil {
		t.Fatalf("nginx: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &Nginx{Root: filepath.Join(dir, "www"), ErrorLog: filepath.Join(dir, "logs", "error.log")}
	for _, d := range []string{n.Root, filepath.Join(dir, "logs"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("nginx: %v", err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: nobody, Gid: nobody}
		for _, d := range []string{filepath.Join(dir, "logs"), filepath.Join(dir, "tmp")} {
			if err := os.Chown(d, nobody, nobody); err != nil {
				t.Fatalf("nginx: %v", err)
			}
		}
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("nginx: %v", err)
		}
		n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		n.URL = "http://" + n.Addr
		if lastErr = n.start(t, bin, dir, opt, cred); lastErr == nil {
			return n
		}
	}
	Unavailable(t, "nginx did not start: %v", lastErr)
	return nil
}

func nginxBinary(t testing.TB) string {
	t.Helper()
	for _, c := range []string{"nginx", "/usr/sbin/nginx"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	Unavailable(t, "nginx not found on $PATH or in /usr/sbin (apt-get install nginx-light)")
	return ""
}

const nginxConf = `worker_processes 1;
error_log %[1]s/logs/error.log info;
events { worker_connections 256; }
http {
	access_log %[1]s/logs/access.log;
	client_body_temp_path %[1]s/tmp/body;
	proxy_temp_path %[1]s/tmp/proxy;
	fastcgi_temp_path %[1]s/tmp/fastcgi;
	uwsgi_temp_path %[1]s/tmp/uwsgi;
	scgi_temp_path %[1]s/tmp/scgi;
	default_type application/octet-stream;
	types { text/plain txt; image/jpeg jpg; }
	server {
		listen %[2]s;
		root %[1]s/www;
		%[3]s
	}
}
`

func (n *Nginx) start(t testing.TB, bin, dir string, opt NginxOptions, cred *syscall.Credential) error {
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxConf, dir, n.Addr, opt.Server)), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", n.ErrorLog,
		"-g", "daemon off; master_process on; pid "+filepath.Join(dir, "tmp", "nginx.pid")+";")
	// A file, not a buffer: with a pipe, Wait would also wait for the
	// workers, which inherit it, to close it.
	outPath := filepath.Join(dir, "logs", "stderr.log")
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			log, _ := os.ReadFile(n.ErrorLog)
			stderr, _ := os.ReadFile(outPath)
			return fmt.Errorf("nginx exited: %v: %s %s", waitErr, bytes.TrimSpace(stderr), bytes.TrimSpace(log))
		default:
		}
		if resp, err := http.Head(n.URL + "/"); err == nil {
			resp.Body.Close()
			t.Cleanup(func() {
				// SIGTERM: nginx's fast shutdown. A graceful one (SIGQUIT)
				// would wait out client_header_timeout on connections a
				// client opened and never used.
				_ = cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					_ = cmd.Process.Kill()
					<-exited
				}
			})
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("nginx not answering on %s after 10s", n.Addr)
}

// Write stores data under the document root at rel (slash-separated),
// creating directories, readable by the nginx workers.
func (n *Nginx) Write(t testing.TB, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(n.Root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	return p
}
