package ossproxy

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Request headers that carry ETags back to the server.
var etagHeaders = [...]string{"If-Match", "If-None-Match",
	"X-Amz-Copy-Source-If-Match", "X-Amz-Copy-Source-If-None-Match"}

// toUpstream hands versitygw back the lower-case ETags it issued. OSS
// accepts its own upper-case ETags where clients send them back (the part
// list of CompleteMultipartUpload, If-Match and friends); versitygw compares
// case-sensitively and would answer InvalidPart or 412. Those bytes are
// signed, so the proxy first checks the client's signature and payload hash
// as versitygw would, and only then re-signs with the same key. A request
// that does not verify is forwarded untouched, for versitygw to refuse: the
// proxy never turns a badly signed request into a good one.
func (p *Proxy) toUpstream(r *http.Request, ex *exchange) {
	changed := map[string]string{}
	for _, h := range etagHeaders {
		if v := r.Header.Get(h); v != "" {
			if l := string(lowerETagText([]byte(v))); l != v {
				changed[h] = l
			}
		}
	}
	var newBody []byte
	if ex.completeBody != nil {
		nb := lowerETags(bytes.Clone(ex.completeBody))
		if !bytes.Equal(nb, ex.completeBody) {
			newBody = nb
		}
	}
	if len(changed) == 0 && newBody == nil {
		return
	}
	a, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		return
	}
	secret, ok := p.secrets[a.keyID]
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if !ok || payload == "" || r.Header.Get("X-Amz-Date") == "" {
		return
	}
	if want, ok := sigV4Signature(secret, a, r, payload); !ok || !hmac.Equal([]byte(want), []byte(a.signature)) {
		return
	}
	if newBody != nil {
		if payload != "UNSIGNED-PAYLOAD" {
			if payload != hexSHA256(ex.completeBody) {
				return
			}
			payload = hexSHA256(newBody)
			r.Header.Set("X-Amz-Content-Sha256", payload)
		}
		if r.Header.Get("Content-MD5") != "" {
			sum := md5.Sum(newBody)
			r.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		}
		r.Body = io.NopCloser(bytes.NewReader(newBody))
		r.ContentLength = int64(len(newBody))
		if r.Header.Get("Content-Length") != "" {
			r.Header.Set("Content-Length", strconv.Itoa(len(newBody)))
		}
	}
	for h, v := range changed {
		r.Header.Set(h, v)
	}
	a.signature, _ = sigV4Signature(secret, a, r, payload)
	r.Header.Set("Authorization", a.String())
}

// sigV4Auth is a parsed "AWS4-HMAC-SHA256 Credential=..." header.
type sigV4Auth struct {
	keyID         string
	scope         string // date/region/service/aws4_request
	signedHeaders string
	signature     string
}

func parseSigV4(h string) (sigV4Auth, bool) {
	const alg = "AWS4-HMAC-SHA256 "
	var a sigV4Auth
	if !strings.HasPrefix(h, alg) {
		return a, false
	}
	for _, f := range strings.Split(h[len(alg):], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Credential":
			a.keyID, a.scope, _ = strings.Cut(v, "/")
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a, a.keyID != "" && strings.Count(a.scope, "/") == 3 && a.signedHeaders != "" && a.signature != ""
}

func (a sigV4Auth) String() string {
	return "AWS4-HMAC-SHA256 Credential=" + a.keyID + "/" + a.scope +
		", SignedHeaders=" + a.signedHeaders + ", Signature=" + a.signature
}

// sigV4Signature computes the signature of r over the headers a names, as
// received (Host and path exactly as sent).
func sigV4Signature(secret string, a sigV4Auth, r *http.Request, payloadHash string) (string, bool) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", false
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	var cr strings.Builder
	cr.WriteString(r.Method + "\n" + path + "\n" + query + "\n")
	for _, h := range strings.Split(a.signedHeaders, ";") {
		cr.WriteString(h + ":" + canonicalHeader(r, h) + "\n")
	}
	cr.WriteString("\n" + a.signedHeaders + "\n" + payloadHash)
	sts := "AWS4-HMAC-SHA256\n" + r.Header.Get("X-Amz-Date") + "\n" + a.scope + "\n" +
		hexSHA256([]byte(cr.String()))
	key := []byte("AWS4" + secret)
	for _, part := range strings.Split(a.scope, "/") {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, sts)), true
}

func canonicalHeader(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		return strconv.FormatInt(r.ContentLength, 10)
	}
	vals := r.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		// Trimmed, runs of spaces collapsed, as the SDK's signer does.
		out[i] = strings.Join(strings.FieldsFunc(v, func(c rune) bool { return c == ' ' }), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery: each name and value URI-encoded (RFC 3986 unreserved
// characters only, space as %20), pairs sorted after encoding.
func canonicalQuery(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", err
	}
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{enc(k), enc(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var b strings.Builder
	for i, kv := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[0] + "=" + kv[1])
	}
	return b.String(), nil
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
