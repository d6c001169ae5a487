package httplist

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signer signs a request just before it is sent. expires is when the
// signature stops being valid.
type Signer interface {
	Sign(req *http.Request, expires time.Time)
}

// OSSSigner signs GET and HEAD requests to an OSS origin with OSS's V1
// query-string signature ("Include a V1 signature in a URL"):
//
//	Signature = base64(HMAC-SHA1(AccessKeySecret,
//	    VERB + "\n" + Content-MD5 + "\n" + Content-Type + "\n" + Expires + "\n" +
//	    CanonicalizedOSSHeaders + CanonicalizedResource))
//
// added as OSSAccessKeyId, Expires and Signature query parameters. With STS
// credentials the token travels as security-token and, as OSS's SDKs sign
// it, is part of the CanonicalizedResource as a sub-resource:
// /bucket/key?security-token=TOKEN. The request carries no Content-MD5,
// Content-Type or x-oss-* header, so those parts are empty.
//
// The bucket is the first label of the URL's host (bucket.oss-cn-x.aliyuncs.com,
// OSS's virtual-hosted style, the only style OSS serves), unless Bucket is
// set: an origin reached through a CNAME or a proxy needs it given.
type OSSSigner struct {
	AccessKey, SecretKey, SecurityToken string
	Bucket                              string
}

// Sign sets the signature parameters on req's URL, replacing any the
// list carried (a list of pre-signed URLs is re-signed with fresh ones).
func (s OSSSigner) Sign(req *http.Request, expires time.Time) {
	q := req.URL.Query()
	for _, k := range []string{"OSSAccessKeyId", "Expires", "Signature", "security-token"} {
		q.Del(k)
	}
	exp := strconv.FormatInt(expires.Unix(), 10)
	resource := "/" + s.bucketOf(req.URL.Host) + req.URL.Path
	if s.SecurityToken != "" {
		resource += "?security-token=" + s.SecurityToken
		q.Set("security-token", s.SecurityToken)
	}
	method := req.Method
	q.Set("OSSAccessKeyId", s.AccessKey)
	q.Set("Expires", exp)
	q.Set("Signature", OSSSignatureV1(s.SecretKey, method+"\n\n\n"+exp+"\n"+resource))
	req.URL.RawQuery = q.Encode()
}

func (s OSSSigner) bucketOf(host string) string {
	if s.Bucket != "" {
		return s.Bucket
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	b, _, _ := strings.Cut(host, ".")
	return b
}

// OSSSignatureV1 is base64(HMAC-SHA1(secret, stringToSign)).
func OSSSignatureV1(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// String never shows the secret or the token.
func (s OSSSigner) String() string {
	return fmt.Sprintf("OSS V1 signatures with access key %s", maskKey(s.AccessKey))
}

func maskKey(k string) string {
	if len(k) <= 4 {
		return "****"
	}
	return k[:4] + "****"
}
