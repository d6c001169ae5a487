package ossproxy

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// OSS V1 query-string signatures ("Include a V1 signature in a URL"), as
// an OSS origin with source-image protection or private objects checks
// them: GET/HEAD with OSSAccessKeyId, Expires and Signature (and
// security-token for STS credentials) in the query. The proxy verifies
// them with the upstream's keys, computing the signature on its own (not
// with ferry's signer, which it is here to check), and refuses as OSS
// does: an expired request first (403 AccessDenied "Request has
// expired."), then an unknown key (InvalidAccessKeyId), then a wrong
// signature (SignatureDoesNotMatch). A request that verifies is forwarded
// to versitygw signed (SigV4) as the key's owner, without the OSS
// parameters. Header-signed S3 requests never carry these parameters and
// take the usual path untouched.

// querySigned reports whether r carries an OSS V1 query signature.
func querySigned(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("OSSAccessKeyId") || q.Has("Signature") && q.Has("Expires")
}

// checkQuerySignature verifies r's query signature; on failure it answers
// r and returns false. On success r is re-signed for the upstream.
func (p *Proxy) checkQuerySignature(w http.ResponseWriter, r *http.Request, bucket string) bool {
	q := r.URL.Query()
	keyID, sig, exp := q.Get("OSSAccessKeyId"), q.Get("Signature"), q.Get("Expires")
	if keyID == "" || sig == "" || exp == "" {
		p.writeError(w, r, http.StatusForbidden, "AccessDenied",
			"Signature, Expires and OSSAccessKeyId are all required in a signed URL.")
		return false
	}
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		p.writeError(w, r, http.StatusForbidden, "AccessDenied", "Invalid Expires.")
		return false
	}
	if time.Now().Unix() > expires {
		p.writeErrorEC(w, r, http.StatusForbidden, "AccessDenied", "Request has expired.", "0002-00000069")
		return false
	}
	secret, ok := p.secrets[keyID]
	if !ok {
		p.writeError(w, r, http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
		return false
	}
	resource := "/" + bucket + r.URL.Path
	if tok := q.Get("security-token"); tok != "" {
		resource += "?security-token=" + tok
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		exp + "\n" + canonicalOSSHeaders(r.Header) + resource))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		p.writeError(w, r, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return false
	}
	for _, k := range []string{"OSSAccessKeyId", "Signature", "Expires", "security-token"} {
		q.Del(k)
	}
	p.signForUpstream(r, keyID, secret, q)
	return true
}

// canonicalOSSHeaders: x-oss-* headers, lower-cased, sorted, "name:value\n".
func canonicalOSSHeaders(h http.Header) string {
	var names []string
	for k := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-oss-") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + ":" + strings.TrimSpace(h.Get(n)) + "\n")
	}
	return b.String()
}

// emptySHA256 is the payload hash of a GET or HEAD.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signForUpstream replaces r's query with q and signs r with SigV4 as
// keyID, as a client of versitygw would.
func (p *Proxy) signForUpstream(r *http.Request, keyID, secret string, q url.Values) {
	r.URL.RawQuery = q.Encode()
	path, _, _ := strings.Cut(r.RequestURI, "?")
	r.RequestURI = path
	if r.URL.RawQuery != "" {
		r.RequestURI += "?" + r.URL.RawQuery
	}
	now := time.Now().UTC().Format("20060102T150405Z")
	r.Header.Set("X-Amz-Date", now)
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	a := sigV4Auth{keyID: keyID, scope: now[:8] + "/" + p.region + "/s3/aws4_request",
		signedHeaders: "host;x-amz-content-sha256;x-amz-date"}
	a.signature, _ = sigV4Signature(secret, a, r, emptySHA256)
	r.Header.Set("Authorization", a.String())
}
