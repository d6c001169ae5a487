package ossproxy

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// op is what an S3 request does, as far as the proxy cares: whether it
// stores, reads or drops an object's bytes (and so its CRC).
type op int

const (
	opOther op = iota
	opPutObject
	opUploadPart
	opCopyObject
	opUploadPartCopy
	opComplete
	opAbort
	opReadObject // GetObject or HeadObject
	opDeleteObject
	opDeleteObjects
)

type reqInfo struct {
	bucket string // from the Host's subdomain; "" on the base host
	key    string
	query  url.Values
	op     op
	// copySrc is the object x-amz-copy-source names (CopyObject,
	// UploadPartCopy); copyOK is false when there is none or it cannot be
	// parsed.
	copySrc objectKey
	copyOK  bool
}

func classify(r *http.Request) reqInfo {
	q := r.URL.Query()
	ri := reqInfo{bucket: bucketFromHost(r.Host), query: q}
	if ri.bucket == "" {
		return ri // path style or ListBuckets: nothing object-level
	}
	ri.key = strings.TrimPrefix(r.URL.Path, "/")
	hasUpload := q.Has("uploadId")
	if ri.key == "" {
		if r.Method == http.MethodPost && q.Has("delete") {
			ri.op = opDeleteObjects
		}
		return ri
	}
	copying := r.Header.Get("X-Amz-Copy-Source") != ""
	if copying {
		ri.copySrc, ri.copyOK = parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case copying && q.Has("partNumber"):
			ri.op = opUploadPartCopy
		case copying:
			ri.op = opCopyObject
		case hasUpload && q.Has("partNumber"):
			ri.op = opUploadPart
		case !hasSubresource(q):
			ri.op = opPutObject
		}
	case http.MethodPost:
		if hasUpload {
			ri.op = opComplete
		}
	case http.MethodDelete:
		switch {
		case hasUpload:
			ri.op = opAbort
		case !hasSubresource(q):
			ri.op = opDeleteObject
		}
	case http.MethodGet, http.MethodHead:
		if !hasUpload && !hasSubresource(q) {
			ri.op = opReadObject
		}
	}
	return ri
}

// hasSubresource reports a query naming something other than the object's
// data (?tagging, ?acl, ?attributes, ?uploads, ...). The SDK adds x-id to
// plain object requests, and reads may carry response-* overrides.
func hasSubresource(q url.Values) bool {
	for name := range q {
		switch {
		case name == "x-id", name == "versionId", name == "partNumber", name == "uploadId",
			strings.HasPrefix(name, "response-"):
		default:
			return true
		}
	}
	return false
}

// bucketFromHost returns the bucket of a virtual-hosted Host
// (bucket.localhost[:port]); "" for the base host or an IP.
func bucketFromHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	const base = ".localhost"
	if strings.HasSuffix(host, base) {
		return strings.TrimSuffix(host, base)
	}
	return ""
}

// parseCopySource reads x-amz-copy-source, "[/]bucket/key[?versionId=v]"
// with the key percent-encoded (a literal "?" in a key arrives as %3F, so
// the first "?" starts the version).
func parseCopySource(v string) (objectKey, bool) {
	v, _, _ = strings.Cut(strings.TrimPrefix(v, "/"), "?")
	bucket, key, ok := strings.Cut(v, "/")
	if !ok || bucket == "" || key == "" {
		return objectKey{}, false
	}
	k, err := url.PathUnescape(key)
	if err != nil {
		return objectKey{}, false
	}
	return objectKey{bucket, k}, true
}
