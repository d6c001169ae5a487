package local

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// The staging area of one multipart upload, <root>/.ferry-multipart/<id>/:
//
//	upload.json   the upload's key and the mtime to give the object
//	part-00001    part 1: its bytes, then a trailer (below)
//	.ferry-tmp-*  a part being written
//
// Everything a later process needs to resume is in the directory itself,
// which is what lets ListParts work from a new Backend.
//
// A part's ETag (MD5) and CRC64 are kept in a fixed trailer after its bytes
// rather than in a separate file, so that the part and its checksums are
// renamed into place together: there is no moment, and so no crash, where
// one exists without the other or a stale one describes a replaced part.
// ListParts then reads 40 bytes per part instead of re-reading every part.
const (
	stateFile  = "upload.json"
	partPrefix = "part-"
	partMagic  = "FERRYPT1"
	trailerLen = len(partMagic) + md5.Size + 8 + 8 // magic, MD5, CRC64, size
	idBytes    = 16
)

type uploadState struct {
	Key     string    `json:"key"`
	ModTime time.Time `json:"modTime,omitzero"`
	Created time.Time `json:"created"`
}

func (b *Backend) stagingRoot() string { return filepath.Join(b.root, stagingDir) }

func newUploadID() (string, error) {
	var id [idBytes]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(id[:]), nil
}

// validUploadID keeps IDs from naming anything but an upload directory
// ("../x" would otherwise walk out of the staging area).
func validUploadID(id string) bool {
	if len(id) != 2*idBytes {
		return false
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func partName(n int) string { return fmt.Sprintf("%s%05d", partPrefix, n) }

// parsePartName returns the number of a "part-NNNNN" file name.
func parsePartName(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, partPrefix)
	if !ok || len(digits) != 5 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > storage.MaxParts {
		return 0, false
	}
	return n, true
}

// openUpload returns u's staging directory and state, or an error wrapping
// ErrNoSuchUpload when there is no such upload for u.Key.
func (b *Backend) openUpload(u storage.Upload) (string, uploadState, error) {
	if !validUploadID(u.ID) {
		return "", uploadState{}, fmt.Errorf("%w: malformed upload ID %q", storage.ErrNoSuchUpload, u.ID)
	}
	dir := filepath.Join(b.stagingRoot(), u.ID)
	st, err := readState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", uploadState{}, fmt.Errorf("%w: %s (completed, aborted or never created)", storage.ErrNoSuchUpload, u.ID)
	}
	if err != nil {
		return "", uploadState{}, err
	}
	if st.Key != u.Key {
		return "", uploadState{}, fmt.Errorf("%w: upload %s is for key %q, not %q", storage.ErrNoSuchUpload, u.ID, st.Key, u.Key)
	}
	return dir, st, nil
}

func readState(dir string) (uploadState, error) {
	var st uploadState
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("corrupt upload state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, nil
}

// writeState writes upload.json into a directory that is not yet visible
// (see CreateUpload), so it needs no rename of its own.
func writeState(dir string, st uploadState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, stateFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func encodeTrailer(md5sum []byte, crc64 uint64, size int64) []byte {
	t := make([]byte, 0, trailerLen)
	t = append(t, partMagic...)
	t = append(t, md5sum...)
	t = binary.BigEndian.AppendUint64(t, crc64)
	return binary.BigEndian.AppendUint64(t, uint64(size))
}

// readPart returns what UploadPart returned for the part file at path.
func readPart(path string, n int) (storage.Part, error) {
	f, err := os.Open(path)
	if err != nil {
		return storage.Part{}, err
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return storage.Part{}, err
	}
	size := fi.Size() - int64(trailerLen)
	t := make([]byte, trailerLen)
	if size >= 0 {
		_, err = f.ReadAt(t, size)
	}
	if size < 0 || err != nil || string(t[:len(partMagic)]) != partMagic ||
		int64(binary.BigEndian.Uint64(t[trailerLen-8:])) != size {
		return storage.Part{}, fmt.Errorf("part file %s has no valid trailer (not written by ferry, or damaged)", path)
	}
	sum := t[len(partMagic) : len(partMagic)+md5.Size]
	return storage.Part{
		Number:   n,
		Size:     size,
		ETag:     hex.EncodeToString(sum),
		CRC64:    binary.BigEndian.Uint64(t[len(partMagic)+md5.Size:]),
		HasCRC64: true,
	}, nil
}

// discard removes an upload's staging directory. Renaming it away first
// ends the upload in one atomic step: a crash halfway through deleting
// leaves debris under a reserved name, never a half-deleted upload that
// still looks resumable.
func (b *Backend) discard(dir string) error {
	trash := filepath.Join(b.stagingRoot(), tmpPrefix+filepath.Base(dir))
	switch err := os.Rename(dir, trash); {
	case errors.Is(err, fs.ErrNotExist):
		return nil // discarded concurrently
	case err != nil:
		trash = dir
	}
	if err := os.RemoveAll(trash); err != nil {
		return err
	}
	// Leave no empty staging directory behind in the user's tree; it stays
	// while other uploads use it (Remove fails on a non-empty directory).
	if err := os.Remove(b.stagingRoot()); err == nil {
		return syncDir(b.root)
	}
	// Another upload ending at the same moment may have removed the
	// staging directory between our Remove and this sync: then there is
	// nothing left to sync, and our upload is gone as it should be.
	if err := syncDir(b.stagingRoot()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
