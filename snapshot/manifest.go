package snapshot

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// FormatV1 is the format line of the manifests this package writes. Read
// refuses any other: a newer ferry may add meaning an older one would miss.
const FormatV1 = "ferry-snapshot/1"

var (
	// ErrIncomplete: the snapshot has no manifest. Its copy never
	// finished (the manifest is written last), or the prefix is not a
	// snapshot. Such a prefix is never a base and never a backup.
	ErrIncomplete = errors.New("snapshot is incomplete")
	// ErrInvalidManifest: the manifest object is not a valid manifest
	// (unknown format, keys out of order, no trailer, counts that disagree).
	ErrInvalidManifest = errors.New("invalid snapshot manifest")
)

// A manifest is JSON lines: a Header, one Entry per object in strictly
// increasing key order, and a Trailer whose counts must agree with the
// entries. JSON lines stream both ways (the writer never holds the list,
// the reader never loads it) and stay readable with jq or a few lines of
// Python.

// Header is the manifest's first line.
type Header struct {
	Format  string    `json:"format"` // FormatV1; set by NewWriter
	Job     string    `json:"job"`
	Pass    uint64    `json:"pass"`
	Prefix  string    `json:"prefix"` // the snapshot's prefix, ending in "/"
	Started time.Time `json:"started"`
	// Base is the prefix of the snapshot unchanged objects were copied
	// from, or "" for a full copy from the source.
	Base string `json:"base"`
}

// Entry describes one object of the snapshot.
type Entry struct {
	Key      string // relative to the snapshot's prefix
	Size     int64
	ModTime  time.Time // the source object's; zero when unknown
	CRC64    uint64    // CRC-64/ECMA of the object, valid when HasCRC64
	HasCRC64 bool
	ETag     string // the source's ETag, "" when unknown
	DestETag string // the stored copy's ETag, "" when unknown
}

// Trailer is the manifest's last line; its presence and agreeing counts
// are what tell a complete manifest from a truncated one.
type Trailer struct {
	Objects  int64
	Bytes    int64
	Finished time.Time
}

// entryLine and trailerLine are the JSON shapes. CRC64 is 16 hex digits:
// a JSON number would lose precision in jq or JavaScript beyond 2^53.
type entryLine struct {
	Key      string `json:"key"`
	Size     int64  `json:"size"`
	MTime    string `json:"mtime,omitempty"`
	CRC64    string `json:"crc64,omitempty"`
	ETag     string `json:"etag,omitempty"`
	DestETag string `json:"destEtag,omitempty"`
}

type trailerLine struct {
	End      bool   `json:"end"`
	Objects  int64  `json:"objects"`
	Bytes    int64  `json:"bytes"`
	Finished string `json:"finished"`
}

func formatCRC(v uint64) string { return fmt.Sprintf("%016x", v) }

func parseCRC(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("crc64 %q is not 16 hex digits", s)
	}
	return strconv.ParseUint(s, 16, 64)
}

// Writer writes one manifest. Its memory does not grow with the number of
// entries: it keeps the last key (for the order check) and the counts.
type Writer struct {
	bw      *bufio.Writer
	enc     *json.Encoder
	last    string
	objects int64
	bytes   int64
	closed  bool
}

// NewWriter writes h (with Format set to FormatV1) to w and returns a
// Writer for the entries. h.Prefix must end in "/".
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Prefix == "" || h.Prefix[len(h.Prefix)-1] != '/' {
		return nil, fmt.Errorf("manifest header: prefix %q must be a snapshot prefix ending in \"/\"", h.Prefix)
	}
	h.Format = FormatV1
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // keys stay readable: "a&b", not "a\u0026b"
	if err := enc.Encode(h); err != nil {
		return nil, fmt.Errorf("writing manifest header: %w", err)
	}
	return &Writer{bw: bw, enc: enc}, nil
}

// Add writes e. Keys must be non-empty valid UTF-8 and strictly increase
// (byte-wise, the order of List): the reader relies on it to resume and to
// detect damage.
func (w *Writer) Add(e Entry) error {
	switch {
	case w.closed:
		return errors.New("manifest: Add after Close")
	case e.Key == "":
		return errors.New("manifest: entry with an empty key")
	case !utf8.ValidString(e.Key):
		// encoding/json would silently replace the bad bytes and the
		// manifest would name a key that does not exist.
		return fmt.Errorf("manifest: key %q is not valid UTF-8", e.Key)
	case e.Size < 0:
		return fmt.Errorf("manifest: key %q has negative size %d", e.Key, e.Size)
	case w.objects > 0 && e.Key == w.last:
		return fmt.Errorf("manifest: duplicate key %q", e.Key)
	case w.objects > 0 && e.Key < w.last:
		return fmt.Errorf("manifest: key %q added after %q; entries must be in increasing key order", e.Key, w.last)
	}
	l := entryLine{Key: e.Key, Size: e.Size, ETag: e.ETag, DestETag: e.DestETag}
	if !e.ModTime.IsZero() {
		l.MTime = e.ModTime.UTC().Format(time.RFC3339Nano)
	}
	if e.HasCRC64 {
		l.CRC64 = formatCRC(e.CRC64)
	}
	if err := w.enc.Encode(l); err != nil {
		return fmt.Errorf("writing manifest entry %q: %w", e.Key, err)
	}
	w.last = e.Key
	w.objects++
	w.bytes += e.Size
	return nil
}

// Close writes the trailer and flushes. It does not close the underlying
// writer. The Trailer it returns is what was written.
func (w *Writer) Close(finished time.Time) (Trailer, error) {
	if w.closed {
		return Trailer{}, errors.New("manifest: Close called twice")
	}
	w.closed = true
	t := Trailer{Objects: w.objects, Bytes: w.bytes, Finished: finished}
	l := trailerLine{End: true, Objects: t.Objects, Bytes: t.Bytes, Finished: finished.UTC().Format(time.RFC3339Nano)}
	if err := w.enc.Encode(l); err != nil {
		return Trailer{}, fmt.Errorf("writing manifest trailer: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return Trailer{}, fmt.Errorf("writing manifest: %w", err)
	}
	return t, nil
}
