// Package ossproxy is a TLS reverse proxy that makes a versitygw look like
// Alibaba OSS to an S3 client, so tests can prove that ferry's S3 backend in
// its OSS flavour survives OSS's quirks (and that the SDK's defaults would
// not). In front of a versitygw started with VirtualDomain "localhost" it:
//
//   - rejects path-style requests (403 SecondLevelDomainForbidden);
//   - rejects aws-chunked bodies (400 InvalidArgument), which aws-sdk-go-v2
//     sends over HTTPS with its default checksum setting (WhenSupported, as
//     config.LoadDefaultConfig sets it);
//   - upper-cases ETags, in headers and in XML bodies;
//   - adds x-oss-hash-crc64ecma to Put, UploadPart, Complete, Get and Head,
//     and to CopyObject when it knows the source's CRC (the copy keeps it);
//     a multipart copy (UploadPartCopy) completes without one, as OSS may;
//   - enforces x-oss-forbid-overwrite on Put, Copy and Complete, atomically
//     for writes through the proxy (see keyLocks), answering 409
//     FileAlreadyExists as OSS does;
//   - on cue, writes an object between a client's check and its write
//     (see Cue), to reproduce the check-then-write race;
//   - injects faults on request: 503 SlowDown, connection resets, flipped
//     bytes in either direction, delays;
//   - verifies OSS V1 query-string signatures (signed URLs) with the
//     upstream's keys and refuses expired ones (see querysig.go);
//   - logs every request (Requests) and counts them by method and kind,
//     with the object bytes it served (Counts).
//
// Requests are forwarded with the Host header unchanged: SigV4 signs Host and
// versitygw checks the signature against the Host it receives, so the proxy
// does not re-sign, except where OSS's upper-case ETags come back in signed
// bytes (see toUpstream). Only tests import this package.
package ossproxy

import (
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// Proxy is a running OSS-like proxy. Address it virtual-hosted as
// https://BUCKET.localhost:PORT (dial with testserver.LocalhostDialer) and
// trust the upstream's certificate (Cert.Pool).
type Proxy struct {
	Endpoint string // https://localhost:PORT
	Addr     string // 127.0.0.1:PORT
	Cert     *testserver.Cert

	upstream  *url.URL
	transport *http.Transport
	server    *http.Server
	errLog    *log.Logger
	started   time.Time
	seq       atomic.Uint64

	// secrets of the upstream's accounts by access key id, to re-sign the
	// requests whose ETags must be lower-cased (see toUpstream).
	secrets map[string]string
	region  string // the upstream's, for SigV4 (see signForUpstream)

	crcs   crcStore
	faults faultQueue
	seen   seenLog
	locks  keyLocks
	cues   cueQueue
	// latency holds requests by kind (SetLatency, latency.go).
	latency latencySet
	// owner is a plain client of the upstream as the bucket owner, for
	// what the proxy itself asks or writes there (existence checks, cues).
	owner *s3.Client

	// issuer, when set (RequireIssued), admits only the credentials it
	// knows (issuer.go).
	issuerMu sync.Mutex
	issuer   *Issuer

	// spread, when set (MeasureSpread), counts the requests in flight by
	// key range (keyspread.go).
	spread atomic.Pointer[KeySpread]
}

// Start runs a proxy in front of upstream (a versitygw started with
// VirtualDomain "localhost") on a free loopback port, with upstream's
// certificate, and stops it when the test ends.
func Start(t testing.TB, upstream *testserver.S3Server) *Proxy {
	t.Helper()
	target, err := url.Parse(upstream.Endpoint)
	if err != nil {
		t.Fatalf("ossproxy: upstream endpoint %q: %v", upstream.Endpoint, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ossproxy: listen: %v", err)
	}
	lw := &testLogWriter{t: t}
	p := &Proxy{
		Addr:     l.Addr().String(),
		Endpoint: fmt.Sprintf("https://localhost:%d", l.Addr().(*net.TCPAddr).Port),
		Cert:     upstream.Cert,
		upstream: target,
		transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: upstream.Cert.Pool},
			// Compression would let the transport rewrite bodies and drop
			// Content-Length behind our back.
			DisableCompression:  true,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		errLog:  log.New(lw, "ossproxy: ", 0),
		started: time.Now(),
	}
	p.secrets = map[string]string{upstream.AccessKey: upstream.SecretKey}
	p.region = upstream.Region
	if upstream.UserAccessKey != "" {
		p.secrets[upstream.UserAccessKey] = upstream.UserSecretKey
	}
	p.crcs.init()
	p.owner = upstream.Client()
	p.server = &http.Server{
		Handler: p,
		// OSS speaks HTTP/1.1; over HTTP/2 a Reset would only cancel one
		// stream instead of breaking the client's connection.
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{upstream.Cert.TLS},
			NextProtos:   []string{"http/1.1"},
		},
		ErrorLog:          p.errLog,
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := p.server.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.errLog.Printf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		_ = p.server.Close()
		<-served
		p.transport.CloseIdleConnections()
		lw.stop()
	})
	return p
}

// ServeHTTP applies OSS's rules, then faults, then forwards.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := classify(r)
	rw := &respWriter{ResponseWriter: w, cutAt: -1, flipAt: -1}
	entry := Seen{Method: r.Method, Bucket: req.bucket, Key: req.key, Query: r.URL.RawQuery,
		Kind: req.kind(r.Method), Header: redact(r.Header), Received: time.Now()}
	// Deferred so that requests a Reset aborts (by panicking) are logged too.
	defer func() {
		entry.Status = rw.status
		if entry.Kind == KindGet && rw.status/100 == 2 {
			entry.BodyBytes = rw.written
		}
		p.seen.add(entry)
	}()

	if req.bucket == "" && r.URL.Path != "/" && r.URL.Path != "" {
		p.writeError(rw, r, http.StatusForbidden, "SecondLevelDomainForbidden",
			"Please use virtual hosted style to access.")
		return
	}
	if isAWSChunked(r.Header) {
		p.writeError(rw, r, http.StatusBadRequest, "InvalidArgument",
			"aws-chunked encoding is not supported with the specified x-amz-content-sha256 value.")
		return
	}
	p.issuerMu.Lock()
	issuer := p.issuer
	p.issuerMu.Unlock()
	if issuer != nil && !issuer.admit(rw, r) {
		return
	}

	if querySigned(r) {
		if !p.checkQuerySignature(rw, r, req.bucket) {
			return // refused as OSS refuses a bad signed URL (querysig.go)
		}
		req = classify(r) // without the signature's parameters: a plain read
	}

	defer p.spread.Load().enter(r, req)()
	p.latency.wait(r.Context(), entry.Kind)

	flipUpload := int64(-1)
	if f, hit := p.faults.take(r.Method, req); hit {
		entry.Fault = f.Kind
		upload := f.upload(r)
		switch {
		case f.Kind == SlowDown:
			p.writeError(rw, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
			return
		case f.Kind == Delay:
			t := time.NewTimer(f.Wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				// The client gave up: nothing is forwarded, and nothing
				// answered either. Returning would make net/http send an
				// empty 200, which a client still reading (the cancel
				// races the close) takes for a successful, empty answer.
				t.Stop()
				panic(http.ErrAbortHandler)
			}
		case f.Kind == Reset && upload:
			// The connection dies mid-body: the server never gets the
			// whole object, the client sees a broken connection.
			_, _ = io.CopyN(io.Discard, r.Body, f.Offset)
			panic(http.ErrAbortHandler)
		case f.Kind == Reset:
			rw.cutAt = f.Offset
		case f.Kind == FlipByte && upload:
			flipUpload = f.Offset
		case f.Kind == FlipByte:
			rw.flipAt = f.Offset
		}
	}

	if req.op.writes() {
		unlock := p.locks.lock(objectKey{req.bucket, req.key})
		defer unlock()
		if p.forbidOverwrite(rw, r, req) {
			return
		}
	}

	ex, err := p.prepare(r, req, flipUpload)
	if err != nil {
		p.writeError(rw, r, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	if c, ok := p.cues.take(r.Method, req); ok {
		ex.cue = &c
	}
	p.toUpstream(r, ex)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(p.upstream)
			pr.Out.Host = pr.In.Host // signed by the client; must reach versitygw as sent
		},
		Transport:      p.transport,
		ModifyResponse: func(resp *http.Response) error { return p.modifyResponse(resp, ex, rw.cutAt) },
		ErrorLog:       p.errLog,
	}
	rp.ServeHTTP(rw, r)
}

// writeError answers the way OSS does: an XML <Error> with RequestId and
// HostId, and the request id in x-oss-request-id.
func (p *Proxy) writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	p.writeErrorEC(w, r, status, code, msg, "")
}

// writeErrorEC is writeError with OSS's detailed error code (x-oss-ec and
// <EC>), where OSS sends one.
func (p *Proxy) writeErrorEC(w http.ResponseWriter, r *http.Request, status int, code, msg, ec string) {
	// Swallow the body first: answering while the client is still sending
	// lets the close that follows reset the connection, and the client may
	// then see the reset instead of this answer. (Even a client waiting for
	// 100 Continue saw resets when refused outright, so it gets its 100 too.)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
	id := p.requestID()
	body := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n"+
		"  <Code>%s</Code>\n  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n  <HostId>%s</HostId>\n%s</Error>\n",
		xmlEscape(code), xmlEscape(msg), id, xmlEscape(r.Host), ecElement(ec))
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("x-oss-request-id", id)
	h.Set("Server", "AliyunOSS")
	if ec != "" {
		h.Set("x-oss-ec", ec)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

func ecElement(ec string) string {
	if ec == "" {
		return ""
	}
	return "  <EC>" + xmlEscape(ec) + "</EC>\n"
}

// requestID imitates OSS's 24 hex digit request ids.
func (p *Proxy) requestID() string {
	return fmt.Sprintf("%08X%016X", uint32(p.started.Unix()), p.seq.Add(1))
}

// maxDrain bounds how much of a refused request's body writeError reads.
const maxDrain = 64 << 20

func isAWSChunked(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		if strings.Contains(strings.ToLower(v), "aws-chunked") {
			return true
		}
	}
	return strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-")
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// testLogWriter sends server and proxy logs to the test log until cleanup;
// handlers can outlive the test by a moment and t.Log would then panic.
type testLogWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLogWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (w *testLogWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
