package storage

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Sentinel causes. Backends wrap them (inside an *Error) so callers can test
// with errors.Is without knowing which backend answered.
var (
	ErrNotFound       = errors.New("not found")
	ErrAccessDenied   = errors.New("access denied")
	ErrInvalidKey     = errors.New("invalid key")
	ErrInvalidRange   = errors.New("invalid range")
	ErrSizeMismatch   = errors.New("size mismatch")
	ErrNoSuchUpload   = errors.New("no such multipart upload")
	ErrBucketNotFound = errors.New("bucket not found")
	// ErrAuth: the credentials themselves were refused (unknown key id, bad
	// signature, expired token). Nothing this backend does can succeed.
	ErrAuth = errors.New("credentials refused")
	// ErrThrottled: the server asked us to slow down (503 SlowDown, 429).
	ErrThrottled = errors.New("throttled by server")
	// ErrUnavailable: a transient server or network failure (5xx, reset,
	// timeout, truncated body).
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrCorrupt: data did not match its checksum in transit.
	ErrCorrupt = errors.New("checksum mismatch")
	// ErrConfig: the server refuses how we talk to it (addressing style,
	// body encoding, clock skew). Every request would fail the same way.
	ErrConfig = errors.New("request refused: client configuration does not suit this server")
)

// Error is what backends return: which backend, which operation, which key,
// and the cause. Its message never contains credentials.
type Error struct {
	Backend string // Backend.String()
	Op      string // "list", "stat", "open", "put", "delete", "upload-part", ...
	Key     string
	Err     error
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s: %v", e.Backend, e.Op, e.Err)
	}
	return fmt.Sprintf("%s: %s %q: %v", e.Backend, e.Op, e.Key, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Class says what a caller should do about an error.
type Class int

const (
	// Permanent: this object (or request) cannot succeed; retrying is a
	// waste. Other objects of the job may still succeed.
	Permanent Class = iota
	// Retryable: try again after a backoff; the failure is transient.
	Retryable
	// Fatal: nothing in this job can succeed until an operator acts (bad
	// credentials, missing bucket, unknown host, untrusted certificate).
	Fatal
	// Canceled: the caller's context ended; not the backend's fault.
	Canceled
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Fatal:
		return "fatal"
	case Canceled:
		return "canceled"
	default:
		return "permanent"
	}
}

// Classify is the one place that decides whether an error is worth retrying.
// Backends translate their native errors to the sentinels above; Classify adds
// what is common to all of them (network, TLS, context). Unknown errors are
// Permanent: retrying what we do not understand is how retry storms start.
func Classify(err error) Class {
	var (
		dnsErr  *net.DNSError
		unkAuth x509.UnknownAuthorityError
		hostErr x509.HostnameError
		certErr x509.CertificateInvalidError
		netErr  net.Error
	)
	switch {
	case err == nil:
		return Permanent
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Canceled
	case errors.Is(err, ErrPrecondition), errors.Is(err, ErrConditionUnsupported):
		// Before the retryable causes: a refusal is the store's answer
		// about this object, whatever else the chain holds.
		return Permanent
	case errors.Is(err, ErrAuth), errors.Is(err, ErrBucketNotFound), errors.Is(err, ErrConfig):
		return Fatal
	case errors.As(err, &unkAuth), errors.As(err, &hostErr), errors.As(err, &certErr):
		return Fatal
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return Fatal
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EROFS):
		return Fatal // a full or read-only disk fails every object alike
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrUnavailable), errors.Is(err, ErrCorrupt):
		return Retryable
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrAccessDenied), errors.Is(err, ErrInvalidKey),
		errors.Is(err, ErrInvalidRange), errors.Is(err, ErrSizeMismatch), errors.Is(err, ErrNoSuchUpload),
		errors.Is(err, ErrTooLarge):
		return Permanent
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.ErrUnexpectedEOF):
		return Retryable
	case errors.As(err, &netErr) && netErr.Timeout():
		return Retryable
	case errors.As(err, &dnsErr):
		return Retryable // temporary resolver failure
	}
	return Permanent
}

// IsRetryable is shorthand for Classify(err) == Retryable.
func IsRetryable(err error) bool { return Classify(err) == Retryable }
