package ossproxy

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind is a misbehaviour the proxy can inject.
type FaultKind int

const (
	// SlowDown answers 503 with OSS's XML error, Code SlowDown, without
	// forwarding the request.
	SlowDown FaultKind = iota + 1
	// Reset breaks the client's connection. On a response: after the
	// headers and Offset bytes of body; if the body is no longer than
	// Offset, before any response at all (the request was served upstream,
	// e.g. a PUT was stored, but the client never hears so). On an upload:
	// after reading Offset bytes of the request body, without forwarding.
	Reset
	// FlipByte xors the byte at Offset of the body with 0xFF. On a download
	// the CRC header still describes the true object, so a client that
	// checks notices; on an upload the corrupted bytes are what gets stored
	// and the CRC header describes them, as OSS would report.
	FlipByte
	// Delay holds the request for Wait, then forwards it unchanged (or
	// drops it when the client gives up first): a slow store, e.g. to make a
	// listing take long enough to interrupt a scan. Like every fault it
	// hides the faults queued after it from the requests it matches.
	Delay
)

func (k FaultKind) String() string {
	switch k {
	case 0:
		return "none"
	case SlowDown:
		return "SlowDown"
	case Reset:
		return "Reset"
	case FlipByte:
		return "FlipByte"
	case Delay:
		return "Delay"
	}
	return "FaultKind(?)"
}

// Direction says which body a Reset or FlipByte hits.
type Direction int

const (
	// Auto: the request body when the request has one (PUT, POST with a
	// body), else the response body.
	Auto Direction = iota
	Upload
	Download
)

// Fault is one queued misbehaviour. The first queued fault that matches a
// request hits it, whatever the upstream then answers.
type Fault struct {
	Kind   FaultKind
	Method string // "GET", "PUT", ...; "" = any
	// KeyContains restricts the fault to object requests whose key contains
	// it; "" = any object request.
	KeyContains string
	// BucketLevel makes the fault hit bucket-level requests (listings,
	// ListBuckets, DeleteObjects) instead of object requests.
	BucketLevel bool
	Direction   Direction
	Offset      int64         // Reset: body bytes passed before the cut; FlipByte: which byte
	Wait        time.Duration // Delay: how long a request is held
	Times       int           // matching requests it hits; 0 means 1, negative means all
}

func (f *Fault) matches(method string, req reqInfo) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	if f.BucketLevel {
		return req.key == ""
	}
	return req.key != "" && strings.Contains(req.key, f.KeyContains)
}

// upload reports whether the fault hits r's request body.
func (f *Fault) upload(r *http.Request) bool {
	switch f.Direction {
	case Upload:
		return true
	case Download:
		return false
	}
	return r.ContentLength != 0 && (r.Method == http.MethodPut || r.Method == http.MethodPost)
}

// Inject queues f.
func (p *Proxy) Inject(f Fault) { p.faults.add(f) }

// ClearFaults drops every queued fault, e.g. a Delay with negative Times.
func (p *Proxy) ClearFaults() { p.faults.clear() }

// PendingFaults is how many queued faults have not used up their Times.
func (p *Proxy) PendingFaults() int { return p.faults.pending() }

type faultQueue struct {
	mu sync.Mutex
	q  []*Fault
}

func (q *faultQueue) add(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	f.Offset = max(f.Offset, 0) // -1 means "no fault" to respWriter
	q.mu.Lock()
	q.q = append(q.q, &f)
	q.mu.Unlock()
}

func (q *faultQueue) take(method string, req reqInfo) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.q {
		if !f.matches(method, req) {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				q.q = append(q.q[:i], q.q[i+1:]...)
			}
		}
		return hit, true
	}
	return Fault{}, false
}

func (q *faultQueue) clear() {
	q.mu.Lock()
	q.q = nil
	q.mu.Unlock()
}

func (q *faultQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.q)
}

// respWriter records the status for the request log and applies
// download faults to the body as it goes out.
type respWriter struct {
	http.ResponseWriter
	status  int
	written int64
	cutAt   int64 // -1: no Reset
	flipAt  int64 // -1: no FlipByte
}

func (w *respWriter) WriteHeader(code int) {
	if code >= 200 && w.status == 0 {
		w.status = code // 1xx (100 Continue forwarded from upstream) is not the answer
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.flipAt >= w.written && w.flipAt < w.written+int64(len(b)) {
		c := make([]byte, len(b))
		copy(c, b)
		c[w.flipAt-w.written] ^= 0xFF
		b = c
	}
	if w.cutAt >= 0 && w.written+int64(len(b)) > w.cutAt {
		n, _ := w.ResponseWriter.Write(b[:w.cutAt-w.written])
		w.written += int64(n)
		// Get the bytes before the cut onto the wire, then let net/http
		// close the connection without finishing the response.
		_ = http.NewResponseController(w.ResponseWriter).Flush()
		panic(http.ErrAbortHandler)
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController (used by ReverseProxy) reach Flush.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
