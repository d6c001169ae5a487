package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// minTokenLen matches the cluster token's minimum (internal/rpcauth).
const minTokenLen = 16

const cookieName = "ferry_session"

// maxSessions bounds the session table: past it, a login evicts the
// session closest to expiry.
const maxSessions = 1000

// role is what a credential may do.
type role int

const (
	noRole   role = iota
	viewer        // sees everything the page shows
	operator      // also pauses, resumes and throttles
)

func (r role) String() string {
	switch r {
	case viewer:
		return "read-only"
	case operator:
		return "operator"
	}
	return "none"
}

// roleOf returns the role token grants. Both candidates are compared, in
// constant time over their SHA-256 (equal lengths whatever was sent), so
// the time taken says nothing about either token.
func (s *Server) roleOf(token string) role {
	got := sha256.Sum256([]byte(token))
	op := sha256.Sum256([]byte(s.cfg.OperatorToken))
	isOp := subtle.ConstantTimeCompare(got[:], op[:]) == 1
	isView := false
	if s.cfg.ViewerToken != "" {
		v := sha256.Sum256([]byte(s.cfg.ViewerToken))
		isView = subtle.ConstantTimeCompare(got[:], v[:]) == 1
	}
	switch {
	case token == "":
		return noRole
	case isOp:
		return operator
	case isView:
		return viewer
	}
	return noRole
}

// session is a logged-in browser: a random id in its cookie, the role its
// token granted, and the CSRF token its forms must send back.
type session struct {
	role    role
	csrf    string
	expires time.Time
}

// sessions is the server-side session table; the browser holds only the
// id, so a stolen cookie never reveals a token and logout or expiry ends
// it here.
type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]session
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, now: now, m: map[string]session{}}
}

// create starts a session for r and returns its id.
func (ss *sessions) create(r role) (string, session) {
	id, csrf := randomID(), randomID()
	s := session{role: r, csrf: csrf, expires: ss.now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.pruneLocked()
	if len(ss.m) >= maxSessions {
		var oldest string
		for sid, o := range ss.m {
			if oldest == "" || o.expires.Before(ss.m[oldest].expires) {
				oldest = sid
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[id] = s
	return id, s
}

// get returns the live session id names.
func (ss *sessions) get(id string) (session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok || !ss.now().Before(s.expires) {
		delete(ss.m, id)
		return session{}, false
	}
	return s, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// pruneLocked drops expired sessions, so the table does not grow with
// logins nobody logs out of.
func (ss *sessions) pruneLocked() {
	now := ss.now()
	for id, s := range ss.m {
		if !now.Before(s.expires) {
			delete(ss.m, id)
		}
	}
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// caller is who made a request: the role, and for a browser session its
// id and CSRF token (a bearer-token caller has neither: it sends no
// cookie, so a forged cross-site request cannot act as it).
type caller struct {
	role      role
	sessionID string
	csrf      string
}

type callerKey struct{}

func callerOf(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// authenticate finds the caller from an Authorization: Bearer header or
// the session cookie.
func (s *Server) authenticate(r *http.Request) caller {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return caller{}
		}
		return caller{role: s.roleOf(strings.TrimSpace(tok))}
	}
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return caller{}
	}
	sess, ok := s.sessions.get(ck.Value)
	if !ok {
		return caller{}
	}
	return caller{role: sess.role, sessionID: ck.Value, csrf: sess.csrf}
}

// requireViewer lets in any authenticated caller. An API request without
// one gets 401 and a page request the login page: neither says anything
// about the jobs.
func (s *Server) requireViewer(api bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.authenticate(r)
		if c.role == noRole {
			if api {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ferry"`)
				writeError(w, http.StatusUnauthorized, "log in: a session cookie or Authorization: Bearer <token>")
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

// requireOperator guards a state-changing POST: an operator only, the
// request from this site, and a browser session's CSRF token sent back.
func (s *Server) requireOperator(h http.HandlerFunc) http.HandlerFunc {
	return s.requireViewer(true, func(w http.ResponseWriter, r *http.Request) {
		c := callerOf(r.Context())
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "POST only")
			return
		}
		if !sameOrigin(r) {
			writeError(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if c.sessionID != "" && !validCSRF(r, c.csrf) {
			writeError(w, http.StatusForbidden, "missing or wrong CSRF token; reload the page")
			return
		}
		if c.role != operator {
			writeError(w, http.StatusForbidden, "read-only credential: pause, resume and throttle need the cluster token")
			return
		}
		h(w, r)
	})
}

// validCSRF checks the X-CSRF-Token header or the csrf form field.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a POST whose Origin (sent by browsers) names another
// site; SameSite=Strict cookies and the CSRF token already stop forged
// requests, this is belt and braces.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// login takes a pasted token and, when it grants a role, starts a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.pages.render(w, http.StatusOK, "login.html", loginPage{})
		return
	}
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	rl := s.roleOf(strings.TrimSpace(r.PostFormValue("token")))
	if rl == noRole {
		s.cfg.Log.Warn("dashboard: login refused", "remote", r.RemoteAddr)
		s.pages.render(w, http.StatusUnauthorized, "login.html", loginPage{Error: "That token is not valid here."})
		return
	}
	id, _ := s.sessions.create(rl)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: s.secureCookie(),
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.SessionTTL / time.Second)})
	s.cfg.Log.Info("dashboard: login", "role", rl.String(), "remote", r.RemoteAddr)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session here (the cookie alone is then worthless).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r.Context())
	if r.Method != http.MethodPost || !sameOrigin(r) || c.sessionID == "" || !validCSRF(r, c.csrf) {
		writeError(w, http.StatusForbidden, "log out with the page's button")
		return
	}
	s.sessions.remove(c.sessionID)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: s.secureCookie(),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// secureHeaders keeps the pages out of frames and caches and lets them
// run only their own script and style.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: with no-referrer browsers send "Origin: null"
		// on form posts, which sameOrigin must refuse.
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// secureCookie: the session cookie goes over HTTPS only. An --insecure
// try-out has no HTTPS, where browsers would drop a Secure cookie away
// from localhost, so there it is sent in clear like everything else.
func (s *Server) secureCookie() bool { return !s.cfg.Insecure }
