package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

const (
	opToken   = "operator-token-0123456789abcdef"
	viewToken = "viewer-token-0123456789abcdef"
)

// fakeBackend is one job, "alpha", whose state the controls change.
type fakeBackend struct {
	mu       sync.Mutex
	state    string
	bps      int64
	ops      float64
	verified int64
	calls    []string
}

func (f *fakeBackend) Stat(job string) ([]master.JobStat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if job != "" && job != "alpha" {
		return nil, fmt.Errorf("job %q: %w", job, master.ErrUnknownJob)
	}
	return []master.JobStat{{Job: "alpha", Type: "import", State: f.state, Pass: 1,
		Counters: tracker.Counters{Scanned: 100, ScannedBytes: 1 << 20, Verified: f.verified, VerifiedBytes: f.verified << 10,
			BytesSent: f.verified << 10, Failed: 1, FailedBytes: 7},
		BytesPerSecondLimit: f.bps, ObjectsPerSecondLimit: f.ops}}, nil
}

func (f *fakeBackend) Workers() []master.WorkerInfo {
	return []master.WorkerInfo{{Worker: "w1", Hostname: "node-1", Concurrency: 8, Leases: 2, BytesPerSecond: 1 << 20,
		LastSeen: time.Now(), Alive: true}}
}

func (f *fakeBackend) Failed(job string, limit int) ([]tracker.Entry, error) {
	var e tracker.Entry
	e.Key, e.Reason, e.Class, e.Pass = "bad/key.bin", "403 AccessDenied", "permanent", 1
	return []tracker.Entry{e}, nil
}

func (f *fakeBackend) act(what, job string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if job != "alpha" {
		return fmt.Errorf("job %q: %w", job, master.ErrUnknownJob)
	}
	f.calls = append(f.calls, what)
	return nil
}

func (f *fakeBackend) Pause(_ context.Context, job string) error {
	err := f.act("pause", job)
	f.mu.Lock()
	f.state = "paused"
	f.mu.Unlock()
	return err
}

func (f *fakeBackend) Resume(_ context.Context, job string) error {
	err := f.act("resume", job)
	f.mu.Lock()
	f.state = "running"
	f.mu.Unlock()
	return err
}

func (f *fakeBackend) SetThrottle(_ context.Context, job string, bps int64, ops float64) error {
	err := f.act("throttle", job)
	f.mu.Lock()
	f.bps, f.ops = bps, ops
	f.mu.Unlock()
	return err
}

func (f *fakeBackend) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// testDash serves a dashboard over TLS (httptest) on b.
type testDash struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
	mu  sync.Mutex
	now time.Time
}

// advance moves the dashboard's clock on.
func (d *testDash) advance(by time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = d.now.Add(by)
}

func newTestDash(t *testing.T, b Backend) *testDash {
	t.Helper()
	d := &testDash{t: t, now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.now
	}
	s, err := New(Config{Backend: b, OperatorToken: opToken, ViewerToken: viewToken, Insecure: true,
		SessionTTL: time.Hour, SampleEvery: time.Second, Now: clock})
	require.NoError(t, err)
	d.srv = s
	d.ts = httptest.NewTLSServer(s.Handler())
	t.Cleanup(d.ts.Close)
	return d
}

// client is a browser-like client: it keeps cookies and does not follow
// redirects, so the tests see them.
func (d *testDash) client() *http.Client {
	c := *d.ts.Client() // a copy: each client its own cookies
	c.Jar = &cookieJar{}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type cookieJar struct {
	mu sync.Mutex
	cs []*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		kept := j.cs[:0]
		for _, o := range j.cs {
			if o.Name != c.Name {
				kept = append(kept, o)
			}
		}
		j.cs = kept
		if c.MaxAge >= 0 && c.Value != "" {
			j.cs = append(j.cs, c)
		}
	}
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*http.Cookie(nil), j.cs...)
}

type resp struct {
	code int
	body string
	hdr  http.Header
}

// do sends method path with the given headers and form (nil: no body).
func (d *testDash) do(c *http.Client, method, path string, hdr map[string]string, form url.Values) resp {
	d.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, d.ts.URL+path, body)
	require.NoError(d.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := c.Do(req)
	require.NoError(d.t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(d.t, err)
	return resp{code: r.StatusCode, body: string(b), hdr: r.Header}
}

// login logs c in with token and returns the session's CSRF token, read
// from the overview page.
func (d *testDash) login(c *http.Client, token string) string {
	d.t.Helper()
	r := d.do(c, "POST", "/login", nil, url.Values{"token": {token}})
	require.Equal(d.t, http.StatusSeeOther, r.code, r.body)
	page := d.do(c, "GET", "/", nil, nil)
	require.Equal(d.t, http.StatusOK, page.code, page.body)
	m := regexp.MustCompile(`data-csrf="([0-9a-f]+)"`).FindStringSubmatch(page.body)
	require.NotNil(d.t, m, "no CSRF token in the page")
	return m[1]
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
