package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// PutOptions tune Put.
type PutOptions struct {
	// TempDir holds the manifest while it is written ("" = os.TempDir()).
	// It needs room for about 100 bytes per object.
	TempDir string
	// Now gives the trailer's finished time (nil = time.Now).
	Now func() time.Time
}

// Put writes the manifest of the snapshot h.Prefix to b: write adds the
// entries, then the trailer is written and the manifest stored under
// ManifestKey(h.Prefix) in one Put. Call it only once every object of the
// snapshot is stored and verified: the manifest's presence is what makes
// the snapshot complete.
//
// Backend.Put needs the exact size up front and a manifest of 10^7
// entries is about a gigabyte, so the manifest is spooled to a temporary
// file (mode 0600: keys may be confidential) and streamed from there,
// never held in memory. The file is removed before Put returns.
func Put(ctx context.Context, b storage.Backend, h Header, opts PutOptions, write func(*Writer) error) (_ Trailer, err error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	f, err := os.CreateTemp(opts.TempDir, "ferry-manifest-*.jsonl")
	if err != nil {
		return Trailer{}, fmt.Errorf("manifest of snapshot %s: temporary file: %w", h.Prefix, err)
	}
	defer func() {
		err = errors.Join(err, f.Close(), os.Remove(f.Name()))
	}()
	w, err := NewWriter(f, h)
	if err != nil {
		return Trailer{}, err
	}
	if err := write(w); err != nil {
		return Trailer{}, fmt.Errorf("manifest of snapshot %s: %w", h.Prefix, err)
	}
	t, err := w.Close(now())
	if err != nil {
		return Trailer{}, fmt.Errorf("manifest of snapshot %s: %w", h.Prefix, err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return Trailer{}, fmt.Errorf("manifest of snapshot %s: %w", h.Prefix, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Trailer{}, fmt.Errorf("manifest of snapshot %s: %w", h.Prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return Trailer{}, err
	}
	info := storage.ObjectInfo{Size: size, ContentType: "application/x-ndjson"}
	if _, err := b.Put(ctx, ManifestKey(h.Prefix), f, info); err != nil {
		return Trailer{}, fmt.Errorf("storing manifest of snapshot %s: %w", h.Prefix, err)
	}
	return t, nil
}
