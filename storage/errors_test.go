package storage

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	wrap := func(err error) error {
		return &Error{Backend: "test", Op: "op", Key: "k", Err: fmt.Errorf("context: %w", err)}
	}
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"not found", ErrNotFound, Permanent},
		{"access denied", ErrAccessDenied, Permanent},
		{"invalid key", ErrInvalidKey, Permanent},
		{"invalid range", ErrInvalidRange, Permanent},
		{"size mismatch", ErrSizeMismatch, Permanent},
		{"no such upload", ErrNoSuchUpload, Permanent},
		{"write condition refused", ErrPrecondition, Permanent},
		{"refused, even after a retryable hiccup", fmt.Errorf("%w after %w", ErrPrecondition, ErrUnavailable), Permanent},
		{"condition unsupported", ErrConditionUnsupported, Permanent},
		{"bad credentials", ErrAuth, Fatal},
		{"missing bucket", ErrBucketNotFound, Fatal},
		{"server refuses our style", ErrConfig, Fatal},
		{"throttled", ErrThrottled, Retryable},
		{"unavailable", ErrUnavailable, Retryable},
		{"corrupt in transit", ErrCorrupt, Retryable},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, Retryable},
		{"refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, Retryable},
		{"broken pipe", syscall.EPIPE, Retryable},
		{"truncated body", io.ErrUnexpectedEOF, Retryable},
		{"timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, Retryable},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, Fatal},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}, Retryable},
		{"untrusted cert", x509.UnknownAuthorityError{}, Fatal},
		{"wrong host cert", x509.HostnameError{Host: "h", Certificate: &x509.Certificate{}}, Fatal},
		{"disk full", os.NewSyscallError("write", syscall.ENOSPC), Fatal},
		{"read-only fs", &os.PathError{Op: "open", Path: "/x", Err: syscall.EROFS}, Fatal},
		{"canceled", context.Canceled, Canceled},
		{"deadline", context.DeadlineExceeded, Canceled},
		{"unknown", errors.New("something odd"), Permanent},
		{"sentinel beats cause", fmt.Errorf("%w: %w", ErrNotFound, io.ErrUnexpectedEOF), Permanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Classify(tc.err), "bare")
			assert.Equal(t, tc.want, Classify(wrap(tc.err)), "wrapped in *Error")
			assert.Equal(t, tc.want == Retryable, IsRetryable(wrap(tc.err)))
		})
	}
	assert.Equal(t, Permanent, Classify(nil))
}

func TestErrorMessageNamesEverything(t *testing.T) {
	err := &Error{Backend: `s3 bucket "b" at https://h`, Op: "stat", Key: "a b", Err: ErrNotFound}
	assert.Equal(t, `s3 bucket "b" at https://h: stat "a b": not found`, err.Error())
	assert.Equal(t, `s3 bucket "b" at https://h: list: not found`, (&Error{Backend: `s3 bucket "b" at https://h`, Op: "list", Err: ErrNotFound}).Error())
	assert.ErrorIs(t, err, ErrNotFound)
}
