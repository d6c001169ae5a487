package observe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestServerEndpoints(t *testing.T) {
	reg := NewRegistry()
	NewWorkerMetrics(reg).Throttled("j")
	ready := NewReadiness("tracker not open yet")
	s := NewServer(reg, ready, nil)
	s.Handle("GET /extra", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "added") }))
	h := s.Handler()

	cases := []struct {
		name, path string
		before     func()
		code       int
		body       []string
	}{
		{name: "liveness", path: "/healthz", code: 200, body: []string{"ok\n"}},
		{name: "not ready yet", path: "/readyz", code: 503, body: []string{"tracker not open yet\n"}},
		{name: "ready", path: "/readyz", before: ready.SetReady, code: 200, body: []string{"ok\n"}},
		{name: "not ready again, one line", path: "/readyz", before: func() {
			ready.Set(func() error { return errors.New("master gone\nsecond line") })
		}, code: 503, body: []string{"master gone\n"}},
		{name: "metrics", path: "/metrics", code: 200, body: []string{
			`ferry_slowdowns_total{ferry_job="j"} 1`, "go_goroutines", "process_cpu_seconds_total"}},
		{name: "added handler", path: "/extra", code: 200, body: []string{"added"}},
		{name: "unknown path", path: "/nothing", code: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			code, body := get(t, h, tc.path)
			assert.Equal(t, tc.code, code, body)
			for _, b := range tc.body {
				if tc.path == "/readyz" || tc.path == "/healthz" {
					assert.Equal(t, b, body)
				} else {
					assert.Contains(t, body, b)
				}
			}
		})
	}
}

// Serve answers on a real listener and stops when its context ends.
func TestServerServeStops(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	wait := NewServer(prometheus.NewRegistry(), NewReadiness("starting"), nil).Start(ctx, lis)
	resp, err := http.Get("http://" + lis.Addr().String() + "/healthz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	cancel()
	wait()
	_, err = http.Get("http://" + lis.Addr().String() + "/healthz")
	assert.Error(t, err, "stopped")
}

func TestListenReportsTheFlag(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer lis.Close()
	_, err = Listen(lis.Addr().String())
	assert.ErrorContains(t, err, "--http-listen "+lis.Addr().String())
}

func TestHeartbeatCheck(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	every := time.Second
	cases := []struct {
		name string
		last time.Time
		want string // "" ready
	}{
		{"never registered", time.Time{}, "not registered with the master yet"},
		{"just answered", now, ""},
		{"three heartbeats ago", now.Add(-3 * every), ""},
		{"silent too long", now.Add(-3*every - time.Millisecond), "no answer from the master for 3.001s (more than 3 heartbeats of 1s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := HeartbeatCheck(func() time.Time { return tc.last }, func() time.Duration { return every },
				func() time.Time { return now })
			err := check()
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.EqualError(t, err, tc.want)
			}
		})
	}
}
