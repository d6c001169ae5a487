package ossproxy

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Seen is one request as the proxy received it, for tests that assert on
// retries or on what the client really sent.
type Seen struct {
	Method string
	Bucket string // "" when not virtual-hosted
	Key    string
	Query  string // raw query
	Kind   Kind
	// BodyBytes is how many bytes of an object's body the proxy sent
	// (GetObject only; errors count nothing).
	BodyBytes int64
	Header    http.Header // request headers, Authorization removed
	Status    int         // status sent; 0 if the connection was cut first
	Fault     FaultKind   // the fault that hit this request, 0 for none
	// Received is when the request arrived. Requests are logged when they
	// end, so the log is in order of completion: a request a killed client
	// left in flight can be logged after requests of a later client.
	Received time.Time
}

// Requests returns every request seen so far, oldest first.
func (p *Proxy) Requests() []Seen { return p.seen.all() }

// Count is how many requests with method ("" = any) were seen.
func (p *Proxy) Count(method string) int {
	n := 0
	for _, s := range p.seen.all() {
		if method == "" || strings.EqualFold(s.Method, method) {
			n++
		}
	}
	return n
}

type seenLog struct {
	mu sync.Mutex
	l  []Seen
}

func (s *seenLog) add(e Seen) {
	s.mu.Lock()
	s.l = append(s.l, e)
	s.mu.Unlock()
}

func (s *seenLog) all() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.l...)
}

// redact copies h without the signature, so a test log printing requests
// shows no credential material.
func redact(h http.Header) http.Header {
	c := h.Clone()
	c.Del("Authorization")
	return c
}

// Keys returns the distinct object keys of the requests seen so far for
// which keep is true, in the order they were first seen: e.g. the scratch
// keys of ferry's conditional-write probes, one per probe.
func (p *Proxy) Keys(keep func(key string) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range p.seen.all() {
		if s.Key != "" && !seen[s.Key] && keep(s.Key) {
			seen[s.Key] = true
			out = append(out, s.Key)
		}
	}
	return out
}
