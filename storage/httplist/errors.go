package httplist

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-migrate/ferry/storage"
)

// statusError maps an origin's answer to the storage sentinels, naming
// the status and the URL without its query (a signed URL's query is a
// secret). Redirects are not followed: the target is an origin nobody
// listed, so a 3xx fails the object, naming the status and the target's
// host (not its path or query, which may be signed too).
func statusError(resp *http.Response, u string) error {
	status := resp.Status
	method := http.MethodGet
	if resp.Request != nil {
		method = resp.Request.Method
	}
	where := method + " " + redact(u)
	switch c := resp.StatusCode; {
	case c == http.StatusNotFound || c == http.StatusGone:
		return fmt.Errorf("%w: %s: %s", storage.ErrNotFound, where, status)
	case c == http.StatusForbidden || c == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s: %s%s", storage.ErrAccessDenied, where, status, ossCode(resp))
	case c == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %s: %s", storage.ErrInvalidRange, where, status)
	case c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return fmt.Errorf("%w: %s: %s", storage.ErrThrottled, where, status)
	case c >= 500 || c == http.StatusRequestTimeout:
		return fmt.Errorf("%w: %s: %s", storage.ErrUnavailable, where, status)
	case c >= 300 && c < 400:
		host := "no Location"
		if l, err := url.Parse(resp.Header.Get("Location")); err == nil && l.Host != "" {
			host = "Location host " + l.Host
		} else if err == nil && resp.Header.Get("Location") != "" {
			host = "Location on the same host"
		}
		return fmt.Errorf("%s: %s (%s): redirects are not followed; list the final URL instead", where, status, host)
	}
	return fmt.Errorf("%s: unexpected %s", where, status)
}

// ossCode adds OSS's error code where the origin is OSS: "Request has
// expired" and a refused signature read differently from a hotlink refusal.
func ossCode(resp *http.Response) string {
	if c := resp.Header.Get("X-Oss-Ec"); c != "" {
		return " (" + c + ")"
	}
	return ""
}

// transportError wraps a failure to reach the origin. The *url.Error the
// client returns quotes the full URL, query included: it is replaced by
// the redacted URL, keeping the cause for classification.
func transportError(ctx context.Context, method, u string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", method, redact(u), ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if strings.Contains(msg, "?") { // belt and braces: nothing below should quote the URL
		msg = redact(msg)
	}
	return fmt.Errorf("%s %s: %w", method, redact(u), &causeError{msg: msg, err: err})
}

// causeError keeps err for errors.Is/As (storage.Classify looks for
// timeouts and connection resets) with a message known to be redacted.
type causeError struct {
	msg string
	err error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.err }
