package ossproxy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name, method, target, copySource string
		bucket, key                      string
		op                               op
	}{
		{"list buckets", "GET", "https://localhost:9/", "", "", "", opOther},
		{"path style", "GET", "https://localhost:9/b/k", "", "", "", opOther},
		{"list objects", "GET", "https://b.localhost:9/?list-type=2", "", "b", "", opOther},
		{"put", "PUT", "https://b.localhost:9/a%20b?x-id=PutObject", "", "b", "a b", opPutObject},
		{"put tagging", "PUT", "https://b.localhost:9/k?tagging", "", "b", "k", opOther},
		{"upload part", "PUT", "https://b.localhost:9/k?partNumber=1&uploadId=u", "", "b", "k", opUploadPart},
		{"copy", "PUT", "https://b.localhost:9/k", "/b/src", "b", "k", opCopyObject},
		{"upload part copy", "PUT", "https://b.localhost:9/k?partNumber=2&uploadId=u", "/b/src", "b", "k", opUploadPartCopy},
		{"create upload", "POST", "https://b.localhost:9/k?uploads", "", "b", "k", opOther},
		{"complete", "POST", "https://b.localhost:9/k?uploadId=u", "", "b", "k", opComplete},
		{"abort", "DELETE", "https://b.localhost:9/k?uploadId=u", "", "b", "k", opAbort},
		{"delete", "DELETE", "https://b.localhost:9/k?x-id=DeleteObject", "", "b", "k", opDeleteObject},
		{"delete objects", "POST", "https://b.localhost:9/?delete", "", "b", "", opDeleteObjects},
		{"get", "GET", "https://b.localhost:9/d/k?x-id=GetObject&response-content-type=x", "", "b", "d/k", opReadObject},
		{"head", "HEAD", "https://B.localhost:9/k", "", "b", "k", opReadObject},
		{"list parts", "GET", "https://b.localhost:9/k?uploadId=u", "", "b", "k", opOther},
		{"attributes", "GET", "https://b.localhost:9/k?attributes", "", "b", "k", opOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, http.NoBody)
			if tc.copySource != "" {
				r.Header.Set("X-Amz-Copy-Source", tc.copySource)
			}
			got := classify(r)
			assert.Equal(t, tc.bucket, got.bucket)
			assert.Equal(t, tc.key, got.key)
			assert.Equal(t, tc.op, got.op)
		})
	}
}

func TestFaultQueue(t *testing.T) {
	var q faultQueue
	q.add(Fault{Kind: SlowDown, Method: "GET", KeyContains: "x"})
	q.add(Fault{Kind: Reset, BucketLevel: true, Times: 2})
	q.add(Fault{Kind: FlipByte, Method: "put", Times: -1})
	obj := func(k string) reqInfo { return reqInfo{bucket: "b", key: k} }

	steps := []struct {
		method string
		req    reqInfo
		want   FaultKind // 0: no fault
	}{
		{"GET", obj("y"), 0},          // key does not match
		{"HEAD", obj("x"), 0},         // method does not match
		{"GET", obj("axb"), SlowDown}, // hits, and is used up
		{"GET", obj("x"), 0},          //
		{"GET", reqInfo{}, Reset},     // bucket-level, twice
		{"DELETE", obj("x"), 0},       //
		{"POST", reqInfo{bucket: "b"}, Reset},
		{"GET", reqInfo{bucket: "b"}, 0},
		{"PUT", obj("k"), FlipByte}, // method is case-insensitive; forever
		{"PUT", obj("k"), FlipByte},
		{"PUT", reqInfo{bucket: "b"}, 0}, // object faults skip bucket-level requests
	}
	for i, s := range steps {
		f, ok := q.take(s.method, s.req)
		if s.want == 0 {
			assert.False(t, ok, "step %d: unexpected %v", i, f.Kind)
			continue
		}
		assert.True(t, ok, "step %d", i)
		assert.Equal(t, s.want, f.Kind, "step %d", i)
	}
	assert.Equal(t, 1, q.pending(), "only the unlimited fault is left")
}

func TestIsAWSChunked(t *testing.T) {
	cases := []struct {
		header http.Header
		want   bool
	}{
		{http.Header{"Content-Encoding": {"aws-chunked"}}, true},
		{http.Header{"Content-Encoding": {"gzip,aws-chunked"}}, true},
		{http.Header{"X-Amz-Content-Sha256": {"STREAMING-UNSIGNED-PAYLOAD-TRAILER"}}, true},
		{http.Header{"X-Amz-Content-Sha256": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}}, true},
		{http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}, false},
		{http.Header{"Content-Encoding": {"gzip"}}, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, isAWSChunked(tc.header), "%v", tc.header)
	}
}
