package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A stranger gets 401 from every API path and the login page (by a
// redirect) for every page; nothing mentions the job.
func TestUnauthenticatedSeesNothing(t *testing.T) {
	d := newTestDash(t, &fakeBackend{state: "running", verified: 10})
	c := d.client()
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		want               int
	}{
		{"overview", "GET", "/", nil, http.StatusSeeOther},
		{"job page", "GET", "/jobs/alpha", nil, http.StatusSeeOther},
		{"jobs api", "GET", "/api/jobs", nil, http.StatusUnauthorized},
		{"job api", "GET", "/api/jobs/alpha", nil, http.StatusUnauthorized},
		{"failed api", "GET", "/api/jobs/alpha/failed", nil, http.StatusUnauthorized},
		{"workers api", "GET", "/api/workers", nil, http.StatusUnauthorized},
		{"history api", "GET", "/api/history", nil, http.StatusUnauthorized},
		{"pause", "POST", "/api/jobs/alpha/pause", nil, http.StatusUnauthorized},
		{"unknown path", "GET", "/api/nope", nil, http.StatusUnauthorized},
		{"wrong bearer", "GET", "/api/jobs", bearer("not-the-token-0123456789"), http.StatusUnauthorized},
		{"token as basic", "GET", "/api/jobs", map[string]string{"Authorization": "Basic " + opToken}, http.StatusUnauthorized},
		{"forged cookie", "GET", "/api/jobs", map[string]string{"Cookie": cookieName + "=" + strings.Repeat("ab", 32)}, http.StatusUnauthorized},
		{"token as cookie", "GET", "/api/jobs", map[string]string{"Cookie": cookieName + "=" + opToken}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.do(c, tt.method, tt.path, tt.hdr, nil)
			assert.Equal(t, tt.want, r.code, r.body)
			assert.NotContains(t, r.body, "alpha")
			assert.NotContains(t, r.body, "node-1")
			if tt.want == http.StatusSeeOther {
				assert.Equal(t, "/login", r.hdr.Get("Location"))
			}
		})
	}
	login := d.do(c, "GET", "/login", nil, nil)
	assert.Equal(t, http.StatusOK, login.code)
	assert.Contains(t, login.body, `name="token"`)
	assert.NotContains(t, login.body, "alpha")
}

func TestBearerTokens(t *testing.T) {
	fb := &fakeBackend{state: "running", verified: 10}
	d := newTestDash(t, fb)
	c := d.client()
	tests := []struct {
		name, token string
		read, write int
	}{
		{"operator", opToken, http.StatusOK, http.StatusOK},
		{"read-only", viewToken, http.StatusOK, http.StatusForbidden},
		{"prefix of the token", opToken[:20], http.StatusUnauthorized, http.StatusUnauthorized},
		{"token with a suffix", opToken + "x", http.StatusUnauthorized, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.read, d.do(c, "GET", "/api/jobs", bearer(tt.token), nil).code)
			// A script with the token needs no CSRF token: it sends no cookie.
			assert.Equal(t, tt.write, d.do(c, "POST", "/api/jobs/alpha/pause", bearer(tt.token), nil).code)
		})
	}
	assert.Equal(t, []string{"pause"}, fb.actions(), "only the operator paused")
}

func TestLoginSession(t *testing.T) {
	d := newTestDash(t, &fakeBackend{state: "running", verified: 10})
	c := d.client()

	bad := d.do(c, "POST", "/login", nil, url.Values{"token": {"wrong-token-0123456789abcdef"}})
	assert.Equal(t, http.StatusUnauthorized, bad.code)
	assert.Contains(t, bad.body, "not valid")
	assert.Empty(t, bad.hdr.Values("Set-Cookie"))

	r := d.do(c, "POST", "/login", nil, url.Values{"token": {opToken}})
	require.Equal(t, http.StatusSeeOther, r.code)
	set := r.hdr.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		assert.Contains(t, set, attr)
	}
	assert.NotContains(t, set, opToken, "the cookie holds a session id, never the token")
	ck := (&http.Response{Header: r.hdr}).Cookies()[0]
	assert.Len(t, ck.Value, 64)

	page := d.do(c, "GET", "/", nil, nil)
	assert.Equal(t, http.StatusOK, page.code)
	assert.Contains(t, page.body, "alpha")
	assert.NotContains(t, page.body, opToken)
	assert.Equal(t, http.StatusOK, d.do(c, "GET", "/api/jobs", nil, nil).code)

	// The session ends when its time is up.
	d.advance(2 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, d.do(c, "GET", "/api/jobs", nil, nil).code)
	assert.Equal(t, http.StatusSeeOther, d.do(c, "GET", "/", nil, nil).code)
}

func TestLogoutEndsSession(t *testing.T) {
	d := newTestDash(t, &fakeBackend{state: "running"})
	c := d.client()
	csrf := d.login(c, opToken)
	stolen := c.Jar.Cookies(nil)[0].Value
	assert.Equal(t, http.StatusForbidden, d.do(c, "POST", "/logout", nil, url.Values{}).code, "logout needs the CSRF token")
	r := d.do(c, "POST", "/logout", nil, url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusSeeOther, r.code)
	// The old cookie is worthless now, even replayed.
	replay := d.do(d.client(), "GET", "/api/jobs", map[string]string{"Cookie": cookieName + "=" + stolen}, nil)
	assert.Equal(t, http.StatusUnauthorized, replay.code)
}

// State-changing POSTs from a browser session need the session's CSRF
// token and a same-site origin; a read-only session is refused whatever
// it sends.
func TestCSRFAndReadOnly(t *testing.T) {
	fb := &fakeBackend{state: "running"}
	d := newTestDash(t, fb)
	op, ro := d.client(), d.client()
	opCSRF, roCSRF := d.login(op, opToken), d.login(ro, viewToken)
	tests := []struct {
		name string
		c    *http.Client
		hdr  map[string]string
		form url.Values
		want int
	}{
		{"operator without a CSRF token", op, nil, url.Values{}, http.StatusForbidden},
		{"operator with a wrong CSRF token", op, map[string]string{"X-CSRF-Token": strings.Repeat("0", 64)}, nil, http.StatusForbidden},
		{"operator with another session's CSRF token", op, map[string]string{"X-CSRF-Token": roCSRF}, nil, http.StatusForbidden},
		{"operator from another origin", op, map[string]string{"X-CSRF-Token": opCSRF, "Origin": "https://evil.example"}, nil, http.StatusForbidden},
		{"read-only with its CSRF token", ro, map[string]string{"X-CSRF-Token": roCSRF}, nil, http.StatusForbidden},
		{"read-only, token in the form", ro, nil, url.Values{"csrf": {roCSRF}}, http.StatusForbidden},
		{"operator, header", op, map[string]string{"X-CSRF-Token": opCSRF}, nil, http.StatusOK},
		{"operator, form field", op, nil, url.Values{"csrf": {opCSRF}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.do(tt.c, "POST", "/api/jobs/alpha/pause", tt.hdr, tt.form)
			assert.Equal(t, tt.want, r.code, r.body)
		})
	}
	assert.Equal(t, []string{"pause", "pause"}, fb.actions())

	// The read-only page shows the numbers but no controls.
	page := d.do(ro, "GET", "/", nil, nil)
	assert.Contains(t, page.body, "alpha")
	assert.NotContains(t, page.body, `data-action="pause"`)
	assert.Contains(t, d.do(op, "GET", "/", nil, nil).body, `data-action="pause"`)
	jp := d.do(ro, "GET", "/jobs/alpha", nil, nil)
	assert.NotContains(t, jp.body, `id="throttle"`)
}

func TestControls(t *testing.T) {
	fb := &fakeBackend{state: "running"}
	d := newTestDash(t, fb)
	c := d.client()
	h := map[string]string{"X-CSRF-Token": d.login(c, opToken)}
	r := d.do(c, "POST", "/api/jobs/alpha/pause", h, nil)
	require.Equal(t, http.StatusOK, r.code, r.body)
	assert.JSONEq(t, `{"job":"alpha","job_state":"paused"}`, r.body)
	r = d.do(c, "POST", "/api/jobs/alpha/resume", h, nil)
	assert.JSONEq(t, `{"job":"alpha","job_state":"running"}`, r.body)
	r = d.do(c, "POST", "/api/jobs/alpha/throttle", h, url.Values{"bytes_per_second": {"1048576"}, "objects_per_second": {"2.5"}})
	require.Equal(t, http.StatusOK, r.code, r.body)
	assert.Equal(t, int64(1<<20), fb.bps)
	assert.InDelta(t, 2.5, fb.ops, 1e-9)
	assert.Equal(t, http.StatusBadRequest, d.do(c, "POST", "/api/jobs/alpha/throttle", h, url.Values{"bytes_per_second": {"-1"}}).code)
	assert.Equal(t, http.StatusNotFound, d.do(c, "POST", "/api/jobs/nope/pause", h, nil).code)
	assert.Equal(t, http.StatusNotFound, d.do(c, "GET", "/api/jobs/alpha/pause", h, nil).code, "controls are POST only")
}

func TestNewRefuses(t *testing.T) {
	fb := &fakeBackend{}
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no TLS", Config{Backend: fb, OperatorToken: opToken}, "needs TLS"},
		{"short token", Config{Backend: fb, OperatorToken: "short", Insecure: true}, "at least 16"},
		{"short read-only token", Config{Backend: fb, OperatorToken: opToken, ViewerToken: "short", Insecure: true}, "at least 16"},
		{"same tokens", Config{Backend: fb, OperatorToken: opToken, ViewerToken: opToken, Insecure: true}, "must differ"},
		{"no backend", Config{OperatorToken: opToken, Insecure: true}, "no backend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

// Logins beyond the table's bound evict the session closest to expiry,
// so a flood of logins cannot grow the master's memory without end.
func TestSessionTableBounded(t *testing.T) {
	now := time.Unix(0, 0)
	ss := newSessions(time.Hour, func() time.Time { return now })
	first, _ := ss.create(operator)
	for range maxSessions {
		now = now.Add(time.Millisecond)
		ss.create(viewer)
	}
	assert.Len(t, ss.m, maxSessions)
	_, ok := ss.get(first)
	assert.False(t, ok, "the oldest session made room")
}
