package httplist

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// urlOf finds key's URL in the spool.
func (b *Backend) urlOf(ctx context.Context, op, key string) (string, error) {
	switch {
	case key == "":
		return "", b.err(op, key, fmt.Errorf("%w: empty key", storage.ErrInvalidKey))
	case len(key) > storage.MaxKeyLen:
		return "", b.err(op, key, fmt.Errorf("%w: %d bytes, more than %d", storage.ErrInvalidKey, len(key), storage.MaxKeyLen))
	}
	if err := ctx.Err(); err != nil {
		return "", b.err(op, key, err)
	}
	path, err := b.spoolPath(ctx)
	if err != nil {
		return "", b.err(op, key, err)
	}
	s, err := openSpool(path)
	if err != nil {
		return "", b.err(op, key, err)
	}
	defer s.Close()
	u, ok, err := s.lookup(key)
	switch {
	case err != nil:
		return "", b.err(op, key, err)
	case !ok:
		return "", b.err(op, key, fmt.Errorf("%w: not in the URL list", storage.ErrNotFound))
	}
	return u, nil
}

// Stat answers from a HEAD. Origins that refuse HEAD (405, or 403 while
// GET is allowed, as some signed and hotlink-protected origins do) are
// asked with a GET of the first byte instead, whose headers say the same.
func (b *Backend) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	u, err := b.urlOf(ctx, "stat", key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	info, err := b.head(ctx, key, u)
	if err != nil {
		return storage.ObjectInfo{}, b.err("stat", key, err)
	}
	return info, nil
}

func (b *Backend) head(ctx context.Context, key, u string) (storage.ObjectInfo, error) {
	resp, err := b.do(ctx, http.MethodHead, u, "")
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK && resp.ContentLength >= 0:
		return infoOf(key, resp, resp.ContentLength), nil
	case resp.StatusCode == http.StatusOK, // no Content-Length: a ranged GET's Content-Range has the size
		resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusForbidden,
		resp.StatusCode == http.StatusNotImplemented:
		resp, err := b.do(ctx, http.MethodGet, u, "bytes=0-0")
		if err != nil {
			return storage.ObjectInfo{}, err
		}
		resp.Body.Close() // the headers are the answer; at most one byte is wasted
		size, err := sizeOf(resp, u)
		if err != nil {
			return storage.ObjectInfo{}, err
		}
		return infoOf(key, resp, size), nil
	}
	return storage.ObjectInfo{}, statusError(resp, u)
}

// sizeOf reads the whole object's size from a (ranged) GET's answer.
func sizeOf(resp *http.Response, u string) (int64, error) {
	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength < 0 {
			return 0, errNoLength(u)
		}
		return resp.ContentLength, nil
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
		// "bytes 0-0/1234", or "bytes */0" for an empty object.
		cr := resp.Header.Get("Content-Range")
		_, total, ok := strings.Cut(cr, "/")
		n, err := strconv.ParseInt(total, 10, 64)
		if ok && err == nil {
			if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && n != 0 {
				break
			}
			return n, nil
		}
	}
	return 0, statusError(resp, u)
}

// errNoLength: the origin streams without saying how much. ferry must
// know the size before writing (and to verify it), so the object fails.
func errNoLength(u string) error {
	return fmt.Errorf("GET %s: the origin sends no Content-Length or Content-Range: the size cannot be known before the copy", redact(u))
}

// infoOf builds ObjectInfo from response headers. The ETag is kept as
// the origin gives it (change detection compares it); when the origin
// sends Content-MD5 and its ETag is not an MD5, the MD5 in hex takes its
// place, so the copier checks the bytes against it.
func infoOf(key string, resp *http.Response, size int64) storage.ObjectInfo {
	h := resp.Header
	info := storage.ObjectInfo{
		Key: key, Size: size,
		ETag:               storage.TrimETag(strings.TrimPrefix(h.Get("ETag"), "W/")),
		ContentType:        h.Get("Content-Type"),
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
	}
	if strings.HasPrefix(h.Get("ETag"), "W/") {
		info.ETag = "" // a weak validator says nothing about the bytes
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		info.ModTime = t.UTC()
	}
	if m := h.Get("Content-MD5"); m != "" && !storage.IsMD5ETag(info.ETag) {
		if raw, err := base64.StdEncoding.DecodeString(m); err == nil && len(raw) == 16 {
			info.ETag = hex.EncodeToString(raw)
		}
	}
	if c := h.Get("X-Oss-Hash-Crc64ecma"); c != "" {
		if v, err := strconv.ParseUint(c, 10, 64); err == nil {
			info.CRC64, info.HasCRC64 = v, true
		}
	}
	return info
}

// Open GETs the range. The origin's answer must be 206 for a ranged
// request; a 200 (Range ignored) is read from the start with the first
// offset bytes discarded.
func (b *Backend) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	u, err := b.urlOf(ctx, "open", key)
	if err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	if length == 0 {
		info, err := b.head(ctx, key, u)
		if err != nil {
			return nil, storage.ObjectInfo{}, b.err("open", key, err)
		}
		if offset > 0 && offset >= info.Size {
			return nil, storage.ObjectInfo{}, b.err("open", key, fmt.Errorf("%w: offset %d of a %d-byte object", storage.ErrInvalidRange, offset, info.Size))
		}
		return io.NopCloser(strings.NewReader("")), info, nil
	}
	rng := ""
	switch {
	case length > 0:
		rng = fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
	case offset > 0:
		rng = fmt.Sprintf("bytes=%d-", offset)
	}
	resp, err := b.do(ctx, http.MethodGet, u, rng)
	if err != nil {
		return nil, storage.ObjectInfo{}, b.err("open", key, err)
	}
	fail := func(err error) (io.ReadCloser, storage.ObjectInfo, error) {
		resp.Body.Close()
		return nil, storage.ObjectInfo{}, b.err("open", key, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength < 0 {
			return fail(errNoLength(u))
		}
		info := infoOf(key, resp, resp.ContentLength)
		if offset > 0 && info.Size >= 0 && offset >= info.Size {
			return fail(fmt.Errorf("%w: offset %d of a %d-byte object", storage.ErrInvalidRange, offset, info.Size))
		}
		if offset > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
				return fail(transportError(ctx, "GET", u, err))
			}
		}
		return b.body(ctx, resp, u, length), info, nil
	case http.StatusPartialContent:
		size, err := sizeOf(resp, u)
		if err != nil {
			return fail(err)
		}
		return b.body(ctx, resp, u, length), infoOf(key, resp, size), nil
	case http.StatusRequestedRangeNotSatisfiable:
		if size, err := sizeOf(resp, u); err == nil && size == 0 && offset == 0 {
			// A range of an empty object: nothing to read.
			resp.Body.Close()
			return io.NopCloser(strings.NewReader("")), infoOf(key, resp, 0), nil
		}
	}
	return fail(statusError(resp, u))
}

// body limits the response to length bytes and turns read failures into
// redacted, classified errors.
func (b *Backend) body(ctx context.Context, resp *http.Response, u string, length int64) io.ReadCloser {
	var r io.Reader = resp.Body
	if length > 0 {
		r = io.LimitReader(r, length)
	}
	return &bodyReader{ctx: ctx, r: r, c: resp.Body, u: u}
}

type bodyReader struct {
	ctx context.Context
	r   io.Reader
	c   io.Closer
	u   string
}

func (br *bodyReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, fmt.Errorf("GET %s: %w: body ended early: %w", redact(br.u), storage.ErrUnavailable, err)
		}
		err = transportError(br.ctx, "GET", br.u, err)
	}
	return n, err
}

func (br *bodyReader) Close() error { return br.c.Close() }

// do sends one request with the job's headers, signed when a Signer is
// set (freshly for this request: a retry signs again).
func (b *Backend) do(ctx context.Context, method, u, rng string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, redact(u), errors.New("not a valid URL"))
	}
	for k, vs := range b.o.Header {
		req.Header[k] = vs
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	// Compressed bodies would change the bytes and the size we verify.
	req.Header.Set("Accept-Encoding", "identity")
	if b.o.Signer != nil {
		b.o.Signer.Sign(req, b.o.Now().Add(signValidity))
	}
	resp, err := b.o.Client.Do(req)
	if err != nil {
		return nil, transportError(ctx, method, u, err)
	}
	return resp, nil
}

// signValidity is how long a signed request stays valid: long enough for
// clock skew, short enough that a leaked URL is soon useless.
const signValidity = 5 * time.Minute
