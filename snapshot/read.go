package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// maxLine bounds one manifest line: a 1023-byte key, JSON-escaped at worst
// six bytes per byte, plus two ETags and the fixed fields fit well inside.
// A longer line is damage, and the bound keeps a damaged manifest from
// costing unbounded memory.
const maxLine = 64 << 10

// Read streams the manifest in r, calling fn for every entry in order, and
// returns its header and trailer. It checks the format version, that keys
// strictly increase, and that the trailer is present, last, and agrees
// with the entries; a manifest failing any check is ErrInvalidManifest.
// Entries already passed to fn before a damage is found were in order, but
// the caller must not treat the snapshot as complete unless Read returns
// nil. An error from fn stops reading and is returned unchanged.
func Read(r io.Reader, fn func(Entry) error) (Header, Trailer, error) {
	br := bufio.NewReaderSize(r, maxLine)
	lineNo := 0
	next := func() ([]byte, error) {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrInvalidManifest, lineNo+1, maxLine)
		case err == io.EOF && len(line) > 0:
			// A last line without its newline: a truncated upload.
			return nil, fmt.Errorf("%w: line %d is cut short (no newline)", ErrInvalidManifest, lineNo+1)
		case err != nil:
			return nil, err
		}
		lineNo++
		return line, nil
	}

	var h Header
	line, err := next()
	if err == io.EOF {
		return Header{}, Trailer{}, fmt.Errorf("%w: empty manifest", ErrInvalidManifest)
	} else if err != nil {
		return Header{}, Trailer{}, fmt.Errorf("reading manifest: %w", err)
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return Header{}, Trailer{}, fmt.Errorf("%w: header (line 1): %w", ErrInvalidManifest, err)
	}
	if h.Format != FormatV1 {
		return h, Trailer{}, fmt.Errorf("%w: format %q; this ferry reads only %q (a newer ferry may have written it)", ErrInvalidManifest, h.Format, FormatV1)
	}

	var (
		last    string
		objects int64
		size    int64
	)
	for {
		line, err := next()
		if err == io.EOF {
			return h, Trailer{}, fmt.Errorf("%w: no trailer after %d entries (truncated?)", ErrInvalidManifest, objects)
		} else if err != nil {
			return h, Trailer{}, fmt.Errorf("reading manifest line %d: %w", lineNo+1, err)
		}
		if isTrailer(line) {
			t, err := parseTrailer(line, lineNo)
			if err != nil {
				return h, Trailer{}, err
			}
			if t.Objects != objects || t.Bytes != size {
				return h, t, fmt.Errorf("%w: trailer says %d objects, %d bytes; the entries add up to %d objects, %d bytes", ErrInvalidManifest, t.Objects, t.Bytes, objects, size)
			}
			if _, err := next(); err != io.EOF {
				return h, t, fmt.Errorf("%w: data after the trailer (line %d)", ErrInvalidManifest, lineNo)
			}
			return h, t, nil
		}
		e, err := parseEntry(line, lineNo)
		if err != nil {
			return h, Trailer{}, err
		}
		if objects > 0 && e.Key <= last {
			return h, Trailer{}, fmt.Errorf("%w: line %d: key %q after %q; keys must strictly increase", ErrInvalidManifest, lineNo, e.Key, last)
		}
		last = e.Key
		objects++
		size += e.Size
		if err := fn(e); err != nil {
			return h, Trailer{}, err
		}
	}
}

// isTrailer tells the trailer from an entry without a full decode of
// every entry line twice: only the trailer has an "end" field.
func isTrailer(line []byte) bool {
	if !bytes.Contains(line, []byte(`"end"`)) {
		return false
	}
	var probe struct {
		End *bool  `json:"end"`
		Key string `json:"key"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.End != nil && probe.Key == ""
}

func parseTrailer(line []byte, n int) (Trailer, error) {
	var l trailerLine
	if err := json.Unmarshal(line, &l); err != nil || !l.End {
		return Trailer{}, fmt.Errorf("%w: line %d: bad trailer %q", ErrInvalidManifest, n, bytes.TrimSpace(line))
	}
	finished, err := time.Parse(time.RFC3339Nano, l.Finished)
	if err != nil {
		return Trailer{}, fmt.Errorf("%w: line %d: trailer finished: %w", ErrInvalidManifest, n, err)
	}
	return Trailer{Objects: l.Objects, Bytes: l.Bytes, Finished: finished}, nil
}

func parseEntry(line []byte, n int) (Entry, error) {
	var l entryLine
	if err := json.Unmarshal(line, &l); err != nil {
		return Entry{}, fmt.Errorf("%w: line %d: %w", ErrInvalidManifest, n, err)
	}
	if l.Key == "" {
		return Entry{}, fmt.Errorf("%w: line %d is neither an entry (no key) nor the trailer", ErrInvalidManifest, n)
	}
	if l.Size < 0 {
		return Entry{}, fmt.Errorf("%w: line %d: key %q has negative size", ErrInvalidManifest, n, l.Key)
	}
	e := Entry{Key: l.Key, Size: l.Size, ETag: l.ETag, DestETag: l.DestETag}
	if l.MTime != "" {
		t, err := time.Parse(time.RFC3339Nano, l.MTime)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: line %d: key %q: mtime: %w", ErrInvalidManifest, n, l.Key, err)
		}
		e.ModTime = t
	}
	if l.CRC64 != "" {
		v, err := parseCRC(l.CRC64)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: line %d: key %q: %w", ErrInvalidManifest, n, l.Key, err)
		}
		e.CRC64, e.HasCRC64 = v, true
	}
	return e, nil
}

// Load reads the manifest of the snapshot under prefix from b (see Read).
// A missing manifest is an error wrapping both ErrIncomplete and
// storage.ErrNotFound: the snapshot never finished, or prefix is not a
// snapshot at all.
func Load(ctx context.Context, b storage.Backend, prefix string, fn func(Entry) error) (Header, Trailer, error) {
	key := ManifestKey(prefix)
	r, _, err := b.Open(ctx, key, 0, -1)
	if errors.Is(err, storage.ErrNotFound) {
		return Header{}, Trailer{}, fmt.Errorf("%w: snapshot %s has no manifest %s: it is incomplete, or the prefix is not a snapshot: %w", ErrIncomplete, prefix, key, err)
	} else if err != nil {
		return Header{}, Trailer{}, fmt.Errorf("opening manifest of snapshot %s: %w", prefix, err)
	}
	defer func() { _ = r.Close() }()
	// fn's own error goes back unchanged; the manifest's are named.
	var fnErr error
	h, t, err := Read(r, func(e Entry) error {
		fnErr = fn(e)
		return fnErr
	})
	if err != nil && err != fnErr {
		return h, t, fmt.Errorf("manifest %s in %s: %w", key, b, err)
	}
	return h, t, err
}
