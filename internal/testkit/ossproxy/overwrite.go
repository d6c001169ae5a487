package ossproxy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// HeaderForbidOverwrite is OSS's create-only switch. versitygw ignores it
// (it stores over an existing object and answers 200), so the proxy
// enforces it: on PutObject, CopyObject and CompleteMultipartUpload with
// the value "true", a write to an existing key is answered 409
// FileAlreadyExists, as OSS answers, and is not forwarded.
const HeaderForbidOverwrite = "x-oss-forbid-overwrite"

// OSS's error for a forbidden overwrite (the x-oss-ec codes are those of
// OSS's error-code pages: 0026-00000201 for put and copy, 0042-00000214
// for complete-multipart).
const (
	codeFileAlreadyExists = "FileAlreadyExists"
	msgFileAlreadyExists  = "The object you specified already exists and can not be overwritten."
)

// writes reports whether op replaces the object under the request's key.
func (o op) writes() bool {
	switch o {
	case opPutObject, opCopyObject, opComplete, opDeleteObject:
		return true
	}
	return false
}

// keyLocks serializes the writes that pass through the proxy one key at a
// time, so that no write can slip between a forbid-overwrite write's
// existence check and its forward (which versitygw then performs while
// the lock is held). DeleteObjects (a batch) and writes sent to versitygw
// directly bypass it; tests that race through the proxy do neither.
type keyLocks struct {
	mu   sync.Mutex
	held map[objectKey]*keyLock
}

type keyLock struct {
	mu    sync.Mutex
	users int
}

// lock takes k's lock and returns its release.
func (l *keyLocks) lock(k objectKey) func() {
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[objectKey]*keyLock)
	}
	kl := l.held[k]
	if kl == nil {
		kl = &keyLock{}
		l.held[k] = kl
	}
	kl.users++
	l.mu.Unlock()
	kl.mu.Lock()
	return func() {
		kl.mu.Unlock()
		l.mu.Lock()
		if kl.users--; kl.users == 0 {
			delete(l.held, k)
		}
		l.mu.Unlock()
	}
}

// forbidOverwrite applies x-oss-forbid-overwrite to a write whose key lock
// the caller holds. It reports whether it answered the request (refused
// it); otherwise the request goes on to versitygw.
func (p *Proxy) forbidOverwrite(w http.ResponseWriter, r *http.Request, req reqInfo) bool {
	v := r.Header.Get(HeaderForbidOverwrite)
	if v == "" || (req.op != opPutObject && req.op != opCopyObject && req.op != opComplete) {
		return false
	}
	switch strings.ToLower(v) {
	case "false":
		return false
	case "true":
	default:
		p.writeErrorEC(w, r, http.StatusBadRequest, "InvalidArgument",
			"The x-oss-forbid-overwrite header is invalid: use true or false.", "0017-00000279")
		return true
	}
	exists, err := p.exists(r.Context(), req.bucket, req.key)
	switch {
	case err != nil:
		p.writeError(w, r, http.StatusInternalServerError, "InternalError", "checking for an existing object: "+err.Error())
		return true
	case !exists:
		return false
	}
	ec := "0026-00000201"
	if req.op == opComplete {
		ec = "0042-00000214"
	}
	p.writeErrorEC(w, r, http.StatusConflict, codeFileAlreadyExists, msgFileAlreadyExists, ec)
	return true
}

// exists asks versitygw, as the bucket's owner, whether key exists.
func (p *Proxy) exists(ctx context.Context, bucket, key string) (bool, error) {
	_, err := p.owner.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var ae smithy.APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey"):
		return false, nil
	}
	return false, err
}
