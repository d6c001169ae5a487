package ossproxy

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Issuer makes the proxy an STS-guarded OSS: once RequireIssued is called,
// the proxy accepts only requests signed (SigV4, in the Authorization
// header) with credentials the Issuer knows — temporary ones it issued,
// valid for its TTL, or static ones added with AddStatic and not revoked —
// and answers everything else as OSS does: 403 InvalidAccessKeyId for an
// unknown or revoked key, 403 SecurityTokenExpired for an expired token,
// 403 InvalidSecurityToken for a token that is not the key's, 403
// SignatureDoesNotMatch for a bad signature. An accepted request is
// re-signed with the upstream's real key (and without the token), which
// is the only key versitygw knows.
type Issuer struct {
	p          *Proxy
	ttl        time.Duration
	realID     string
	realSecret string

	mu      sync.Mutex
	keys    map[string]*issuedKey
	issued  map[string]int // by label
	refused map[string]int // by error code
}

type issuedKey struct {
	secret, token string
	expires       time.Time // zero: static
	revoked       bool
	label         string
	used          int
	lastUsed      time.Time
}

// Credentials is what Issue hands out, in the JSON shape a credentials
// command prints (Alibaba CLI's process format).
type Credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
}

// RequireIssued turns the check on. Accepted requests reach the upstream
// signed as realID, one of the upstream's accounts.
func (p *Proxy) RequireIssued(ttl time.Duration, realID string) *Issuer {
	secret, ok := p.secrets[realID]
	if !ok {
		panic("ossproxy: RequireIssued: " + realID + " is not an upstream account")
	}
	i := &Issuer{p: p, ttl: ttl, realID: realID, realSecret: secret,
		keys: map[string]*issuedKey{}, issued: map[string]int{}, refused: map[string]int{}}
	p.issuerMu.Lock()
	p.issuer = i
	p.issuerMu.Unlock()
	return i
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Issue mints temporary credentials valid for the TTL; label (e.g. "src")
// is what Issued counts them under.
func (i *Issuer) Issue(label string) Credentials {
	id, secret, token := "STS."+randomHex(8), randomHex(16), "CAIS"+randomHex(24)
	exp := time.Now().Add(i.ttl)
	i.mu.Lock()
	i.keys[id] = &issuedKey{secret: secret, token: token, expires: exp, label: label}
	i.issued[label]++
	i.mu.Unlock()
	// Whole seconds, as RFC 3339 without fractions is what STS prints: the
	// credentials are declared to expire no later than they do.
	return Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: token,
		Expiration: exp.UTC().Truncate(time.Second).Format(time.RFC3339)}
}

// Handler serves Issue over HTTP: GET /?label=src answers the JSON of
// fresh credentials, for a credentials command to fetch.
func (i *Issuer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(i.Issue(r.URL.Query().Get("label")))
	})
}

// AddStatic accepts a long-lived key pair (until revoked).
func (i *Issuer) AddStatic(id, secret string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[id] = &issuedKey{secret: secret, label: "static"}
}

// Revoke refuses id from now on.
func (i *Issuer) Revoke(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if k := i.keys[id]; k != nil {
		k.revoked = true
	}
}

// Issued counts the credentials issued under label.
func (i *Issuer) Issued(label string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.issued[label]
}

// Refused counts refused requests by OSS error code.
func (i *Issuer) Refused() map[string]int {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make(map[string]int, len(i.refused))
	for k, v := range i.refused {
		out[k] = v
	}
	return out
}

// Used says how many accepted requests id signed, and when the last one
// arrived.
func (i *Issuer) Used(id string) (n int, last time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if k := i.keys[id]; k != nil {
		return k.used, k.lastUsed
	}
	return 0, time.Time{}
}

// admit checks r's credentials and re-signs it for the upstream; when it
// refuses, it has answered and returns false.
func (i *Issuer) admit(w http.ResponseWriter, r *http.Request) bool {
	code, msg := i.check(r)
	if code == "" {
		return true
	}
	i.mu.Lock()
	i.refused[code]++
	i.mu.Unlock()
	i.p.writeError(w, r, http.StatusForbidden, code, msg)
	return false
}

func (i *Issuer) check(r *http.Request) (code, msg string) {
	a, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		return "AccessDenied", "Anonymous access is forbidden for this operation."
	}
	now := time.Now()
	i.mu.Lock()
	k := i.keys[a.keyID]
	var key issuedKey
	if k != nil {
		key = *k
	}
	i.mu.Unlock()
	token := r.Header.Get("X-Amz-Security-Token")
	switch {
	case k == nil || key.revoked:
		return "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records."
	case !key.expires.IsZero() && !now.Before(key.expires):
		return "SecurityTokenExpired", "The security token you provided has expired."
	case token != key.token:
		return "InvalidSecurityToken", "The security token you provided is invalid."
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	want, ok := sigV4Signature(key.secret, a, r, payload)
	if payload == "" || !ok || !hmac.Equal([]byte(want), []byte(a.signature)) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	i.mu.Lock()
	k.used++
	k.lastUsed = now
	i.mu.Unlock()
	// Re-sign as the upstream account: without the token, which versitygw
	// would not know.
	if token != "" {
		r.Header.Del("X-Amz-Security-Token")
		var hs []string
		for _, h := range strings.Split(a.signedHeaders, ";") {
			if h != "x-amz-security-token" {
				hs = append(hs, h)
			}
		}
		a.signedHeaders = strings.Join(hs, ";")
	}
	a.keyID = i.realID
	a.signature, _ = sigV4Signature(i.realSecret, a, r, payload)
	r.Header.Set("Authorization", a.String())
	return "", ""
}

// Secrets lists every secret and token the issuer knows, for tests that
// search ferry's output for them.
func (i *Issuer) Secrets() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []string
	for _, k := range i.keys {
		out = append(out, k.secret)
		if k.token != "" {
			out = append(out, k.token)
		}
	}
	return out
}
