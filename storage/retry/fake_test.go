package retry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// fault is one scripted failure. For call-level ops ("stat", "open", "put",
// ...) after is ignored and the call returns err. For "list" and
// "list-uploads", after items are delivered first; for "read" (consumed by
// each successful Open) the reader fails with err after after bytes.
type fault struct {
	after int
	err   error
}

type openCall struct{ off, length int64 }

// fake is an in-memory storage.Backend + storage.Multipart whose calls fail
// as scripted. All state is behind mu so -race checks the wrapper, not this.
type fake struct {
	mu      sync.Mutex
	objs    map[string]*fakeObj
	uploads map[storage.Upload]map[int][]byte
	faults  map[string][]fault
	calls   map[string]int
	opens   []openCall
	lists   []string // startAfter of each List call
	readers []*fakeReader
	// onOpen runs (under mu) at the start of the n-th Open (1-based), e.g.
	// to replace the object between a first open and a re-open.
	onOpen func(n int, o *fakeObj)
	nextID int
}

type fakeObj struct {
	data []byte
	info storage.ObjectInfo
}

func newFake() *fake {
	return &fake{
		objs:    map[string]*fakeObj{},
		uploads: map[storage.Upload]map[int][]byte{},
		faults:  map[string][]fault{},
		calls:   map[string]int{},
	}
}

// fail makes the next len(errs) calls of op fail with errs, in order.
func (f *fake) fail(op string, errs ...error) *fake {
	for _, err := range errs {
		f.script(op, fault{err: err})
	}
	return f
}

func (f *fake) script(op string, fs ...fault) *fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], fs...)
	return f
}

func (f *fake) add(key string, data []byte) *fakeObj {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := &fakeObj{data: data, info: storage.ObjectInfo{
		Key: key, Size: int64(len(data)), ETag: fmt.Sprintf("etag-%d", len(data)),
		ModTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
	f.objs[key] = o
	return o
}

func (f *fake) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// next records a call of op and pops its next fault, if any. Caller holds mu.
func (f *fake) next(op string) (fault, bool) {
	f.calls[op]++
	q := f.faults[op]
	if len(q) == 0 {
		return fault{}, false
	}
	f.faults[op] = q[1:]
	return q[0], true
}

func (f *fake) call(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, _ := f.next(op)
	return fl.err
}

func (f *fake) String() string { return "fake" }

func (f *fake) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	f.mu.Lock()
	fl, faulty := f.next("list")
	f.lists = append(f.lists, startAfter)
	var infos []storage.ObjectInfo
	for k, o := range f.objs {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			infos = append(infos, o.info)
		}
	}
	f.mu.Unlock() // fn may call back into f
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
	for i, oi := range infos {
		if faulty && i == fl.after {
			return fl.err
		}
		if err := fn(oi); err != nil {
			return err
		}
	}
	if faulty && fl.after >= len(infos) {
		return fl.err
	}
	return nil
}

func (f *fake) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := f.call("stat"); err != nil {
		return storage.ObjectInfo{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objs[key]
	if !ok {
		return storage.ObjectInfo{}, &storage.Error{Backend: "fake", Op: "stat", Key: key, Err: storage.ErrNotFound}
	}
	return o.info, nil
}

func (f *fake) Open(ctx context.Context, key string, off, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.next("open"); ok && fl.err != nil {
		return nil, storage.ObjectInfo{}, fl.err
	}
	f.opens = append(f.opens, openCall{off, length})
	o, ok := f.objs[key]
	if f.onOpen != nil && ok {
		f.onOpen(len(f.opens), o)
	}
	if !ok {
		return nil, storage.ObjectInfo{}, &storage.Error{Backend: "fake", Op: "open", Key: key, Err: storage.ErrNotFound}
	}
	if off > 0 && off >= int64(len(o.data)) {
		return nil, storage.ObjectInfo{}, &storage.Error{Backend: "fake", Op: "open", Key: key, Err: storage.ErrInvalidRange}
	}
	end := int64(len(o.data))
	if length >= 0 {
		end = min(end, off+length)
	}
	r := &fakeReader{r: bytes.NewReader(o.data[off:end]), failAfter: -1}
	if fl, ok := f.next("read"); ok {
		r.failAfter, r.err = fl.after, fl.err
	}
	f.readers = append(f.readers, r)
	return r, o.info, nil
}

func (f *fake) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	// Read the whole body before failing, as a real upload that breaks late
	// would: the retry must rewind it.
	data, rerr := io.ReadAll(body)
	if err := f.call("put"); err != nil {
		return storage.ObjectInfo{}, err
	}
	if rerr != nil {
		return storage.ObjectInfo{}, rerr
	}
	if int64(len(data)) != info.Size {
		return storage.ObjectInfo{}, &storage.Error{Backend: "fake", Op: "put", Key: key, Err: storage.ErrSizeMismatch}
	}
	return f.add(key, data).info, nil
}

func (f *fake) Delete(ctx context.Context, key string) error {
	if err := f.call("delete"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objs, key)
	return nil
}

func (f *fake) MinPartSize() int64 { return 5 }

func (f *fake) CreateUpload(ctx context.Context, key string, info storage.ObjectInfo) (storage.Upload, error) {
	if err := f.call("create-upload"); err != nil {
		return storage.Upload{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	u := storage.Upload{Key: key, ID: fmt.Sprint(f.nextID)}
	f.uploads[u] = map[int][]byte{}
	return u, nil
}

func (f *fake) UploadPart(ctx context.Context, u storage.Upload, n int, body io.Reader, size int64) (storage.Part, error) {
	data, rerr := io.ReadAll(body)
	if err := f.call("upload-part"); err != nil {
		return storage.Part{}, err
	}
	if rerr != nil {
		return storage.Part{}, rerr
	}
	if int64(len(data)) != size {
		return storage.Part{}, storage.ErrSizeMismatch
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, ok := f.uploads[u]
	if !ok {
		return storage.Part{}, storage.ErrNoSuchUpload
	}
	parts[n] = data
	return storage.Part{Number: n, Size: size, ETag: fmt.Sprint("p", n)}, nil
}

func (f *fake) ListParts(ctx context.Context, u storage.Upload) ([]storage.Part, error) {
	if err := f.call("list-parts"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ps []storage.Part
	for n, d := range f.uploads[u] {
		ps = append(ps, storage.Part{Number: n, Size: int64(len(d)), ETag: fmt.Sprint("p", n)})
	}
	slices.SortFunc(ps, func(a, b storage.Part) int { return a.Number - b.Number })
	return ps, nil
}

func (f *fake) CompleteUpload(ctx context.Context, u storage.Upload, parts []storage.Part) (storage.ObjectInfo, error) {
	if err := f.call("complete-upload"); err != nil {
		return storage.ObjectInfo{}, err
	}
	f.mu.Lock()
	held := f.uploads[u]
	delete(f.uploads, u)
	f.mu.Unlock()
	var data []byte
	for _, p := range parts {
		data = append(data, held[p.Number]...)
	}
	return f.add(u.Key, data).info, nil
}

func (f *fake) AbortUpload(ctx context.Context, u storage.Upload) error {
	if err := f.call("abort-upload"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.uploads, u)
	return nil
}

func (f *fake) ListUploads(ctx context.Context, prefix string, fn func(storage.Upload) error) error {
	f.mu.Lock()
	fl, faulty := f.next("list-uploads")
	var us []storage.Upload
	for u := range f.uploads {
		if strings.HasPrefix(u.Key, prefix) {
			us = append(us, u)
		}
	}
	f.mu.Unlock()
	slices.SortFunc(us, func(a, b storage.Upload) int { return strings.Compare(a.Key+"\x00"+a.ID, b.Key+"\x00"+b.ID) })
	for i, u := range us {
		if faulty && i == fl.after {
			return fl.err
		}
		if err := fn(u); err != nil {
			return err
		}
	}
	if faulty && fl.after >= len(us) {
		return fl.err
	}
	return nil
}

// fakeReader serves its bytes, then fails with err once failAfter bytes
// have been read (never if failAfter < 0). The failing Read returns the last
// bytes together with the error, as a network read that breaks mid-buffer
// does, so the wrapper's n > 0 && err != nil path is exercised.
type fakeReader struct {
	r         *bytes.Reader
	failAfter int
	err       error
	n         int
	mu        sync.Mutex
	closed    bool
}

func (r *fakeReader) Read(p []byte) (int, error) {
	if r.isClosed() {
		return 0, fmt.Errorf("fake: read after close")
	}
	if r.failAfter >= 0 {
		p = p[:min(len(p), r.failAfter-r.n)]
	}
	n, err := r.r.Read(p)
	r.n += n
	if r.failAfter >= 0 && r.n == r.failAfter {
		return n, r.err
	}
	return n, err
}

func (r *fakeReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

func (r *fakeReader) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// sleeper is a fake Policy.Sleep that records the waits it was asked for
// and returns at once (with ctx.Err() if ctx is already done).
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// testPolicy retries 4 times in all, with waits of exactly half the
// ceiling (Rand = 0.5) recorded by s.
func testPolicy(s *sleeper) Policy {
	return Policy{
		MaxAttempts: 4,
		Initial:     100 * time.Millisecond,
		Max:         time.Second,
		Sleep:       s.sleep,
		Rand:        func() float64 { return 0.5 },
	}
}

// Copy makes dst share src's bytes, failing as scripted for "copy".
func (f *fake) Copy(ctx context.Context, src, dst string, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	if err := f.call("copy"); err != nil {
		return storage.ObjectInfo{}, err
	}
	f.mu.Lock()
	o, ok := f.objs[src]
	f.mu.Unlock()
	if !ok {
		return storage.ObjectInfo{}, &storage.Error{Backend: "fake", Op: "copy", Key: dst, Err: storage.ErrNotFound}
	}
	return f.add(dst, o.data).info, nil
}
