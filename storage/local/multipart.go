package local

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
)

// MinPartSize is 1: a file can be assembled from parts of any size, but
// only the last part may be empty, as on S3.
func (b *Backend) MinPartSize() int64 { return 1 }

// PartLimits: parts of any size (only the last may be empty), up to
// storage.MaxParts of them, and no object size limit but the filesystem's.
func (b *Backend) PartLimits() storage.PartLimits { return storage.NoPartLimits() }

// CreateUpload prepares the staging directory under a temporary name and
// renames it into place, so an upload ID either names a complete staging
// directory or nothing. Content type and metadata are not kept; ModTime
// is, and is given to the object on completion as Put does.
func (b *Backend) CreateUpload(ctx context.Context, key string, info storage.ObjectInfo) (storage.Upload, error) {
	const op = "create-upload"
	if err := ctx.Err(); err != nil {
		return storage.Upload{}, b.fail(op, key, err)
	}
	if err := validateKey(key); err != nil {
		return storage.Upload{}, b.fail(op, key, err)
	}
	id, err := newUploadID()
	if err != nil {
		return storage.Upload{}, b.fail(op, key, err)
	}
	staging := b.stagingRoot()
	var tmp string
	for attempt := 0; ; attempt++ {
		if err = os.MkdirAll(staging, 0o755); err == nil {
			tmp, err = os.MkdirTemp(staging, tmpPrefix+"*")
		}
		// The staging directory is removed when its last upload ends; one
		// ending concurrently can remove it between the two calls.
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 5 {
			break
		}
	}
	if err != nil {
		return storage.Upload{}, b.fail(op, key, err)
	}
	st := uploadState{Key: key, ModTime: info.ModTime, Created: time.Now().UTC()}
	err = writeState(tmp, st)
	if err == nil {
		err = syncDir(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(staging, id))
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return storage.Upload{}, b.fail(op, key, err)
	}
	if err := syncDir(staging); err != nil {
		return storage.Upload{}, b.fail(op, key, err)
	}
	return storage.Upload{Key: key, ID: id}, nil
}

// UploadPart writes the part atomically (temporary file, fsync, rename),
// computing its MD5 (the ETag) and CRC64 on the way and storing both in
// the part's trailer.
func (b *Backend) UploadPart(ctx context.Context, u storage.Upload, n int, body io.Reader, size int64) (storage.Part, error) {
	const op = "upload-part"
	if err := ctx.Err(); err != nil {
		return storage.Part{}, b.fail(op, u.Key, err)
	}
	if n < 1 || n > storage.MaxParts {
		return storage.Part{}, b.fail(op, u.Key, fmt.Errorf("part number %d is outside 1..%d", n, storage.MaxParts))
	}
	if size < 0 {
		return storage.Part{}, b.fail(op, u.Key, fmt.Errorf("%w: part %d: size %d is negative", storage.ErrSizeMismatch, n, size))
	}
	dir, _, err := b.openUpload(u)
	if err != nil {
		return storage.Part{}, b.fail(op, u.Key, err)
	}
	p, err := writePart(ctx, dir, n, body, size)
	if err != nil {
		return storage.Part{}, b.fail(op, u.Key, err)
	}
	return p, nil
}

func writePart(ctx context.Context, dir string, n int, body io.Reader, size int64) (storage.Part, error) {
	// The staging directory vanishes when the upload is completed or
	// aborted concurrently; the body's own errors must not be read so.
	gone := func(err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: completed or aborted during the upload of part %d: %w", storage.ErrNoSuchUpload, n, err)
		}
		return err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return storage.Part{}, gone(err)
	}
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	md5h, crch := md5.New(), crc.New()
	if err := copyExactly(ctx, io.MultiWriter(f, md5h, crch), body, size); err != nil {
		return storage.Part{}, fmt.Errorf("part %d: %w", n, err)
	}
	sum := md5h.Sum(nil)
	if _, err := f.Write(encodeTrailer(sum, crch.Sum64(), size)); err != nil {
		return storage.Part{}, err
	}
	if err := f.Sync(); err != nil {
		return storage.Part{}, err
	}
	if err := f.Close(); err != nil {
		return storage.Part{}, err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, partName(n))); err != nil {
		return storage.Part{}, gone(err)
	}
	done = true
	p := storage.Part{Number: n, Size: size, ETag: hex.EncodeToString(sum), CRC64: crch.Sum64(), HasCRC64: true}
	return p, syncDir(dir)
}

// ListParts reads the staging directory; a new Backend over the same root
// sees the same parts, which is the resume contract. A part file whose
// trailer is damaged is left out, so that the caller sends it again.
func (b *Backend) ListParts(ctx context.Context, u storage.Upload) ([]storage.Part, error) {
	const op = "list-parts"
	if err := ctx.Err(); err != nil {
		return nil, b.fail(op, u.Key, err)
	}
	dir, _, err := b.openUpload(u)
	if err != nil {
		return nil, b.fail(op, u.Key, err)
	}
	entries, err := os.ReadDir(dir) // sorted by name, and so by number
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w: %s was completed or aborted meanwhile", storage.ErrNoSuchUpload, u.ID)
	}
	if err != nil {
		return nil, b.fail(op, u.Key, err)
	}
	var parts []storage.Part
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, b.fail(op, u.Key, err)
		}
		n, ok := parsePartName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		p, err := readPart(filepath.Join(dir, e.Name()), n)
		if errors.Is(err, fs.ErrNotExist) {
			continue // being replaced, or the upload is going away
		}
		if err != nil {
			continue // damaged: the caller re-sends it
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// CompleteUpload checks the given parts against the stored ones, then
// writes their concatenation as the object exactly as Put writes a body.
// Each part's CRC64 is checked while it is copied, and the object's CRC64
// is combined from the parts' without another pass.
func (b *Backend) CompleteUpload(ctx context.Context, u storage.Upload, parts []storage.Part) (storage.ObjectInfo, error) {
	const op = "complete-upload"
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, b.fail(op, u.Key, err)
	}
	if err := validateKey(u.Key); err != nil {
		return storage.ObjectInfo{}, b.fail(op, u.Key, err)
	}
	dir, st, err := b.openUpload(u)
	if err != nil {
		return storage.ObjectInfo{}, b.fail(op, u.Key, err)
	}
	stored, err := b.checkParts(dir, parts)
	if err != nil {
		return storage.ObjectInfo{}, b.fail(op, u.Key, err)
	}
	var total int64
	var sum uint64
	for _, p := range stored {
		sum = crc.Combine(sum, p.CRC64, p.Size)
		total += p.Size
	}
	if err := u.Condition.Validate(); err != nil {
		return storage.ObjectInfo{}, b.fail(op, u.Key, err)
	}
	fi, err := b.writeObject(u.Key, st.ModTime, u.Condition, func(w io.Writer) error {
		for _, p := range stored {
			if err := copyPart(ctx, w, filepath.Join(dir, partName(p.Number)), p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return storage.ObjectInfo{}, b.fail(op, u.Key, err)
	}
	if err := b.discard(dir); err != nil {
		// The object is complete; leftover staging is only debris that
		// ListUploads will show for cleanup.
		return storage.ObjectInfo{}, b.fail(op, u.Key, fmt.Errorf("object stored, but removing staging %s failed: %w", dir, err))
	}
	return storage.ObjectInfo{Key: u.Key, Size: total, ModTime: fi.ModTime(), CRC64: sum, HasCRC64: true}, nil
}

// checkParts returns the stored parts matching the caller's list, or an
// error saying which part does not match and how.
func (b *Backend) checkParts(dir string, parts []storage.Part) ([]storage.Part, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("no parts given: an upload needs at least one part")
	}
	stored := make([]storage.Part, len(parts))
	for i, p := range parts {
		if i > 0 && p.Number <= parts[i-1].Number {
			return nil, fmt.Errorf("part %d listed after part %d: parts must be given once each, by ascending number",
				p.Number, parts[i-1].Number)
		}
		if _, ok := parsePartName(partName(p.Number)); !ok {
			return nil, fmt.Errorf("part number %d is outside 1..%d", p.Number, storage.MaxParts)
		}
		s, err := readPart(filepath.Join(dir, partName(p.Number)), p.Number)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("part %d was never uploaded (or was lost): upload it, or leave it out", p.Number)
		case err != nil:
			return nil, err
		case !storage.ETagEqual(p.ETag, s.ETag):
			return nil, fmt.Errorf("part %d: ETag %q does not match the stored part's %q (it was uploaded again since)",
				p.Number, p.ETag, s.ETag)
		case p.Size != s.Size:
			return nil, fmt.Errorf("%w: part %d: %d bytes given, the stored part has %d", storage.ErrSizeMismatch, p.Number, p.Size, s.Size)
		case i < len(parts)-1 && s.Size < b.MinPartSize():
			return nil, fmt.Errorf("part %d is empty: only the last part may be smaller than %d bytes", p.Number, b.MinPartSize())
		}
		stored[i] = s
	}
	return stored, nil
}

func copyPart(ctx context.Context, w io.Writer, path string, p storage.Part) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: part %d vanished: the upload was aborted meanwhile", storage.ErrNoSuchUpload, p.Number)
	}
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	h := crc.New()
	r := ctxReader{ctx: ctx, r: io.NewSectionReader(f, 0, p.Size)}
	n, err := io.Copy(io.MultiWriter(w, h), r)
	if err != nil {
		return fmt.Errorf("part %d: %w", p.Number, err)
	}
	if n != p.Size || h.Sum64() != p.CRC64 {
		return fmt.Errorf("%w: part %d (%s) no longer matches the CRC64 recorded when it was uploaded",
			storage.ErrCorrupt, p.Number, path)
	}
	return nil
}

// AbortUpload removes the staging directory. An upload that does not exist
// (or belongs to another key) is not touched, and that is success.
func (b *Backend) AbortUpload(ctx context.Context, u storage.Upload) error {
	const op = "abort-upload"
	if err := ctx.Err(); err != nil {
		return b.fail(op, u.Key, err)
	}
	dir, _, err := b.openUpload(u)
	if errors.Is(err, storage.ErrNoSuchUpload) {
		return nil
	}
	if err == nil {
		err = b.discard(dir)
	}
	if err != nil {
		return b.fail(op, u.Key, err)
	}
	return nil
}

// ListUploads reads the staging area, in upload ID order.
func (b *Backend) ListUploads(ctx context.Context, prefix string, fn func(storage.Upload) error) error {
	const op = "list-uploads"
	if err := ctx.Err(); err != nil {
		return b.fail(op, prefix, err)
	}
	entries, err := os.ReadDir(b.stagingRoot())
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no upload was ever started here
	}
	if err != nil {
		return b.fail(op, prefix, err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return b.fail(op, prefix, err)
		}
		if !e.IsDir() || !validUploadID(e.Name()) {
			continue
		}
		st, err := readState(filepath.Join(b.stagingRoot(), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // completed or aborted since the directory was read
		}
		if err != nil {
			return b.fail(op, prefix, err)
		}
		if strings.HasPrefix(st.Key, prefix) {
			if err := fn(storage.Upload{Key: st.Key, ID: e.Name()}); err != nil {
				return err
			}
		}
	}
	return nil
}
