package main

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// listing is a bucket of n generated objects that exists only as a
// function of the index: key(i) is fixed-width, so keys sort in index
// order and any ListObjectsV2 query (prefix, start-after, continuation)
// is a binary search, with no memory or disk per object. 10^7 or 10^8
// objects cost nothing to "store".
type listing struct {
	n    int
	size int64
	etag string // the same for every object: its bytes are all zero
}

// keyWidth digits hold 10^10 objects, more than any run here.
const keyWidth = 10

// key is the i-th key: a flat bucket (no "/"), the shape issue 15's
// parallel listing is about.
func key(i int) string { return fmt.Sprintf("k%0*d", keyWidth, i) }

// keyIndex is key's inverse; false for a key the listing never made.
func keyIndex(k string) (int, bool) {
	if len(k) != keyWidth+1 || k[0] != 'k' {
		return 0, false
	}
	i, err := strconv.Atoi(k[1:])
	return i, err == nil
}

// page answers one ListObjectsV2 query: up to max keys after `after`
// (start-after or a continuation token, which here is the last key sent)
// under prefix, and whether more follow.
func (l *listing) page(prefix, after string, max int) (keys []string, truncated bool) {
	from := max2(after, prefix)
	i := sort.Search(l.n, func(i int) bool { return key(i) >= from })
	if i < l.n && key(i) == after {
		i++ // start-after is exclusive
	}
	for ; i < l.n && len(keys) < max; i++ {
		k := key(i)
		if !strings.HasPrefix(k, prefix) {
			return keys, false // sorted: nothing further has the prefix
		}
		keys = append(keys, k)
	}
	return keys, i < l.n && strings.HasPrefix(key(i), prefix)
}

func max2(a, b string) string {
	if a > b {
		return a
	}
	return b
}

// The subset of S3's ListBucketResult the s3 backend reads.
type listResult struct {
	XMLName               xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string       `xml:"Name"`
	Prefix                string       `xml:"Prefix"`
	KeyCount              int          `xml:"KeyCount"`
	MaxKeys               int          `xml:"MaxKeys"`
	IsTruncated           bool         `xml:"IsTruncated"`
	EncodingType          string       `xml:"EncodingType,omitempty"`
	ContinuationToken     string       `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
	Contents              []listObject `xml:"Contents"`
}

type listObject struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

// fakeS3 answers ListObjectsV2 on bucket src from a listing, and with an
// empty listing on any other bucket (the destination the master checks).
// Signatures are not checked: it serves one benchmark on loopback. Every
// other request is refused, so a code path that would read objects from
// the "source" shows up as an error instead of passing silently.
type fakeS3 struct {
	src   string
	l     *listing
	mtime string
	Pages atomic.Int64 // list pages served
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || q.Get("list-type") != "2" {
		// 403, not 501: the master's probe of conditional writes on the
		// destination gives up at once on a refusal, where it would
		// retry a 501 for seconds and add them to the restart's figure.
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(xml.Header + `<Error><Code>AccessDenied</Code><Message>fake S3: only ListObjectsV2</Message></Error>`))
		return
	}
	max := 1000
	if m, err := strconv.Atoi(q.Get("max-keys")); err == nil && m > 0 && m < max {
		max = m
	}
	after := q.Get("start-after")
	if t := q.Get("continuation-token"); t != "" {
		after = t
	}
	res := listResult{Name: bucket, Prefix: q.Get("prefix"), MaxKeys: max, EncodingType: q.Get("encoding-type"),
		ContinuationToken: q.Get("continuation-token")}
	if bucket == f.src {
		keys, more := f.l.page(res.Prefix, after, max)
		res.Contents = make([]listObject, len(keys))
		for i, k := range keys {
			// Fixed-width keys need no URL encoding, so EncodingType=url
			// is honoured by sending them as they are.
			res.Contents[i] = listObject{Key: k, LastModified: f.mtime, ETag: `"` + f.l.etag + `"`, Size: f.l.size, StorageClass: "STANDARD"}
		}
		res.KeyCount, res.IsTruncated = len(keys), more
		if more {
			res.NextContinuationToken = keys[len(keys)-1]
		}
	}
	f.Pages.Add(1)
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(xml.Header))
	if err := xml.NewEncoder(w).Encode(res); err != nil {
		return // the client went away
	}
}

// serveS3 serves f over TLS on a loopback port until ctx ends; it returns
// the endpoint URL.
func serveS3(ctx context.Context, f *fakeS3, cert tls.Certificate) (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("fake S3: %w", err)
	}
	srv := &http.Server{Handler: f, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ServeTLS(lis, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("fake S3: %v", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "https://" + lis.Addr().String(), nil
}
