package ossproxy

import "net/http"

// Kind is what a request did, for counting: the tests that prove a copy
// read no source bytes count GETs and the bytes they served.
type Kind string

const (
	KindGet            Kind = "get" // GetObject, ranged or not
	KindHead           Kind = "head"
	KindPut            Kind = "put"
	KindCopy           Kind = "copy" // CopyObject
	KindCreateUpload   Kind = "create-upload"
	KindUploadPart     Kind = "upload-part"
	KindUploadPartCopy Kind = "upload-part-copy"
	KindComplete       Kind = "complete"
	KindAbort          Kind = "abort"
	KindDelete         Kind = "delete" // DeleteObject or DeleteObjects
	KindList           Kind = "list"   // ListObjects(V2), ListMultipartUploads, ListParts
	KindOther          Kind = "other"
)

// kind classifies a request by what it does with objects.
func (ri reqInfo) kind(method string) Kind {
	switch ri.op {
	case opPutObject:
		return KindPut
	case opUploadPart:
		return KindUploadPart
	case opCopyObject:
		return KindCopy
	case opUploadPartCopy:
		return KindUploadPartCopy
	case opComplete:
		return KindComplete
	case opAbort:
		return KindAbort
	case opDeleteObject, opDeleteObjects:
		return KindDelete
	case opReadObject:
		if method == http.MethodHead {
			return KindHead
		}
		return KindGet
	}
	switch {
	case method == http.MethodPost && ri.query.Has("uploads"):
		return KindCreateUpload
	case method == http.MethodGet && ri.bucket != "" &&
		(ri.key == "" || ri.query.Has("uploadId")):
		return KindList
	}
	return KindOther
}

// Counts sums up the requests the proxy has seen.
type Counts struct {
	ByMethod map[string]int // "GET", "PUT", ...
	ByKind   map[Kind]int
	// ObjectBytes is the bytes of object bodies served (GetObject), what a
	// source server would bill as egress.
	ObjectBytes int64
}

// Counts returns the totals of every request seen so far. Take one before
// and one after the code under test, and compare with Since.
func (p *Proxy) Counts() Counts {
	c := Counts{ByMethod: map[string]int{}, ByKind: map[Kind]int{}}
	for _, s := range p.seen.all() {
		c.ByMethod[s.Method]++
		c.ByKind[s.Kind]++
		c.ObjectBytes += s.BodyBytes
	}
	return c
}

// Since is what happened between before and c (zero counts left out).
func (c Counts) Since(before Counts) Counts {
	d := Counts{ByMethod: map[string]int{}, ByKind: map[Kind]int{}, ObjectBytes: c.ObjectBytes - before.ObjectBytes}
	for m, n := range c.ByMethod {
		if n -= before.ByMethod[m]; n != 0 {
			d.ByMethod[m] = n
		}
	}
	for k, n := range c.ByKind {
		if n -= before.ByKind[k]; n != 0 {
			d.ByKind[k] = n
		}
	}
	return d
}
