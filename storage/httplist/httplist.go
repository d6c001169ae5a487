// Package httplist is a read-only storage.Backend over a URL list: the
// source of OssImport's srcType=http. The list is a text file of
// whitespace-separated columns; one column holds a URL prefix (scheme, host
// and optional path), another the relative path that becomes the object's
// key (see listfile.go for the exact rules). Objects are read with HEAD and
// ranged GETs; nothing is ever written.
//
// A URL list is in no particular order, but storage.Backend.List must
// deliver keys sorted and resume after any key. The first List sorts the
// list externally into a spool file (chunks sorted in bounded memory, then
// merged; see spool.go); every later List, Stat and Open reads that spool,
// found again by binary search, so memory does not grow with the list.
// Only List, Stat and Open need the list: New reads nothing.
package httplist

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// Options configure a Backend. ListFile, PrefixColumn and RelativeColumn
// are required.
type Options struct {
	// ListFile is the URL list. Workers need it at the same path too: they
	// find an object's URL from its key in the list's spool.
	ListFile string
	// PrefixColumn and RelativeColumn are 1-based column numbers
	// (OssImport's httpPrefixColumn and relativePathColumn).
	PrefixColumn, RelativeColumn int

	// Header is sent with every request (Referer, User-Agent, ...).
	Header http.Header
	// Signer, when set, signs every request just before it is sent
	// (OSS query-string signatures for an OSS origin); a retried request
	// is signed afresh.
	Signer Signer

	// SpoolDir holds the sorted spool; os.TempDir() when empty. The spool
	// is named after the list's path, size and modification time, so a
	// restarted process reuses it and an edited list gets a new one.
	SpoolDir string
	// ChunkBytes bounds the memory the sort uses for one chunk of lines;
	// 64 MiB when 0.
	ChunkBytes int
	// ListConcurrency is how many HEAD requests List keeps in flight to
	// report each object's size and validators; 16 when 0.
	ListConcurrency int

	// Client sends the requests; one that follows no redirects is made
	// when nil. A client given here must not follow redirects either.
	Client *http.Client
	// OnSkip is told about lines that cannot become objects (too few
	// columns, a bad prefix URL, an invalid key) and about duplicate keys
	// (the later line wins). what names the line ("urls.list:17"), never
	// its URL.
	OnSkip func(what string, reason error)
	// Now is the clock for signatures; time.Now when nil.
	Now func() time.Time
}

// Backend reads the objects of one URL list. It is safe for concurrent use.
type Backend struct {
	o    Options
	name string

	mu    sync.Mutex // guards spool: built once, by the first caller that needs it
	spool string
}

// New checks the options and returns the backend. It does not read the list.
func New(o Options) (*Backend, error) {
	switch {
	case o.ListFile == "":
		return nil, fmt.Errorf("httplist: no list file")
	case o.PrefixColumn < 1 || o.RelativeColumn < 1:
		return nil, fmt.Errorf("httplist: column numbers start at 1 (prefix column %d, relative path column %d)", o.PrefixColumn, o.RelativeColumn)
	case o.PrefixColumn == o.RelativeColumn:
		return nil, fmt.Errorf("httplist: the prefix column and the relative path column are both %d", o.PrefixColumn)
	}
	abs, err := filepath.Abs(o.ListFile)
	if err != nil {
		return nil, fmt.Errorf("httplist: %w", err)
	}
	o.ListFile = abs
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 64 << 20
	}
	if o.ListConcurrency <= 0 {
		o.ListConcurrency = 16
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	// A redirect is reported, not followed: its target is another origin
	// the operator did not list (see errors.go).
	c := *o.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = &c
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Backend{o: o, name: "http list " + abs}, nil
}

// String names the list file, never a URL: URLs may carry signatures.
func (b *Backend) String() string { return b.name }

// Evidence: an origin reports nothing ferry can check a write against;
// this backend is never written to.
func (b *Backend) Evidence() storage.Evidence { return storage.Evidence{} }

// Put refuses: a URL list is a source only.
func (b *Backend) Put(_ context.Context, key string, _ io.Reader, _ storage.ObjectInfo) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, b.err("put", key, errReadOnly)
}

// Delete refuses: a URL list is a source only.
func (b *Backend) Delete(_ context.Context, key string) error {
	return b.err("delete", key, errReadOnly)
}

var errReadOnly = fmt.Errorf("%w: an HTTP URL list is read-only (a source, never a destination)", storage.ErrConfig)

func (b *Backend) err(op, key string, err error) error {
	return &storage.Error{Backend: b.name, Op: op, Key: key, Err: err}
}

// Check verifies the list can be read, so a job whose list is missing
// fails before it starts, with the path named. Each origin answers for
// its own objects when they are read.
func (b *Backend) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return b.err("check", "", err)
	}
	f, err := os.Open(b.o.ListFile)
	if err != nil {
		return b.err("check", "", fmt.Errorf("%w: the URL list cannot be read: %w", storage.ErrConfig, err))
	}
	return f.Close()
}
