package worker

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

// Sums describes bytes as the copier read and sent them.
type Sums struct {
	Size     int64
	CRC64    uint64
	HasCRC64 bool // false under verify=off
	// MD5 is the whole object's MD5, known for single-part copies only
	// (parallel parts cannot be hashed as one stream).
	MD5 []byte
	// PartMD5s are the parts' MD5s in part order, for multipart copies.
	PartMD5s [][]byte
	// Checksum is the source's checksum algorithm computed over the bytes
	// read (storage.ObjectInfo.Checksum form), when planned.
	Checksum string
	// Declared is the source's own checksum handed to the destination to
	// validate; its echo in the destination's answer proves the copy.
	Declared string
}

// errNotValidated: the destination stored a copy without echoing the
// checksum it was given, so it did not validate it. The copier did not
// compute what else it could compare (it counted on that check), so it
// reads the copy back instead; the backend stops declaring from then on.
var errNotValidated = errors.New("destination ignored the declared checksum")

// MismatchError says that a check failed: the bytes were damaged on their
// way from the source or to the destination. It wraps storage.ErrCorrupt,
// which storage.Classify calls retryable: the next attempt copies again.
type MismatchError struct {
	Side  string // "source", "destination" or "part N"
	Check string // "crc64", "md5", "multipart-etag", "size", "reread"
	Want  string // what the copier computed from the bytes it read
	Got   string // what the other side reports
	Hint  string // what the operator may do if it is not corruption
}

func (e *MismatchError) Error() string {
	s := fmt.Sprintf("%s %s mismatch: computed %s, %s reports %s", e.Side, e.Check, e.Want, e.Side, e.Got)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *MismatchError) Unwrap() error { return storage.ErrCorrupt }

// opaqueETagHint is for MD5-shaped ETags that differ: on S3 with SSE-KMS
// or SSE-C they are not MD5s at all, and every object would fail.
const opaqueETagHint = "if the store encrypts with SSE-KMS or SSE-C its ETags are not MD5s: use verify=size"

// VerifyDest checks the destination's report of the stored object (the
// result of Put or CompleteUpload) against sent, and returns the method that
// held. Checks go strongest first; a check the destination gives no data
// for is skipped, never counted as passed, and a value of an unknown shape
// (an ETag that is neither an MD5 nor a multipart ETag of as many parts as
// were sent) is no data, not a mismatch. mode task.VerifyReread checks like
// task.VerifyAuto here; the caller then reads the destination back.
func VerifyDest(mode task.VerifyMode, sent Sums, dest storage.ObjectInfo) (task.Method, error) {
	// A Size of 0 may mean "not reported" (ObjectInfo's convention).
	if dest.Size != sent.Size && dest.Size != 0 {
		return "", &MismatchError{Side: "destination", Check: "size",
			Want: strconv.FormatInt(sent.Size, 10), Got: strconv.FormatInt(dest.Size, 10)}
	}
	if dest.HasCRC64 && sent.HasCRC64 {
		if dest.CRC64 != sent.CRC64 {
			return "", &MismatchError{Side: "destination", Check: "crc64",
				Want: crc.FormatOSS(sent.CRC64), Got: crc.FormatOSS(dest.CRC64)}
		}
		return task.MethodCRC64, nil
	}
	if sent.Declared != "" {
		switch dest.Checksum {
		case sent.Declared:
			return task.MethodChecksum, nil
		case "":
			return "", errNotValidated
		default:
			// A store that validates refuses a mismatch (BadDigest); one
			// that answers with another value has stored other bytes.
			return "", &MismatchError{Side: "destination", Check: "checksum", Want: sent.Declared, Got: dest.Checksum}
		}
	}
	if mode == task.VerifySize || mode == task.VerifyOff {
		return task.MethodSize, nil
	}
	switch {
	case len(sent.PartMD5s) == 0 && sent.MD5 != nil && storage.IsMD5ETag(dest.ETag):
		if want := hex.EncodeToString(sent.MD5); !storage.ETagEqual(dest.ETag, want) {
			return "", &MismatchError{Side: "destination", Check: "md5", Want: want, Got: storage.TrimETag(dest.ETag), Hint: opaqueETagHint}
		}
		return task.MethodMD5, nil
	case len(sent.PartMD5s) > 0 && storage.MultipartETagParts(dest.ETag) == len(sent.PartMD5s):
		if want := storage.MultipartETag(sent.PartMD5s); !storage.ETagEqual(dest.ETag, want) {
			return "", &MismatchError{Side: "destination", Check: "multipart-etag", Want: want, Got: storage.TrimETag(dest.ETag), Hint: opaqueETagHint}
		}
		return task.MethodMultipartETag, nil
	}
	return task.MethodSize, nil
}

// VerifySource checks what was read against what the source said about
// the object while it was being read (Open's ObjectInfo): a flipped bit on
// the way down shows here, and nowhere else, since the destination
// faithfully stores and checksums the damaged bytes. read.MD5 is nil when
// the object was read in parallel parts.
func VerifySource(mode task.VerifyMode, src storage.ObjectInfo, read Sums) error {
	if src.HasCRC64 && read.HasCRC64 && read.Size == src.Size && src.CRC64 != read.CRC64 {
		return &MismatchError{Side: "source", Check: "crc64",
			Want: crc.FormatOSS(read.CRC64), Got: crc.FormatOSS(src.CRC64)}
	}
	if read.Checksum != "" && src.Checksum != "" && read.Size == src.Size && read.Checksum != src.Checksum {
		return &MismatchError{Side: "source", Check: "checksum", Want: read.Checksum, Got: src.Checksum}
	}
	if mode != task.VerifySize && read.MD5 != nil && storage.IsMD5ETag(src.ETag) {
		if got := hex.EncodeToString(read.MD5); !storage.ETagEqual(src.ETag, got) {
			return &MismatchError{Side: "source", Check: "md5", Want: got, Got: storage.TrimETag(src.ETag), Hint: opaqueETagHint}
		}
	}
	return nil
}

// VerifyPart checks one uploaded part as the destination acknowledged it:
// its CRC64 (OSS) and its ETag, which S3 and OSS make the part's MD5.
func VerifyPart(mode task.VerifyMode, p storage.Part, read Sums) error {
	side := "part " + strconv.Itoa(p.Number)
	if p.HasCRC64 && read.HasCRC64 && p.CRC64 != read.CRC64 {
		return &MismatchError{Side: side, Check: "crc64", Want: crc.FormatOSS(read.CRC64), Got: crc.FormatOSS(p.CRC64)}
	}
	if mode != task.VerifySize && read.MD5 != nil && storage.IsMD5ETag(p.ETag) {
		if want := hex.EncodeToString(read.MD5); !storage.ETagEqual(p.ETag, want) {
			return &MismatchError{Side: side, Check: "md5", Want: want, Got: storage.TrimETag(p.ETag), Hint: opaqueETagHint}
		}
	}
	return nil
}

// withListedCRC64 gives src, the source's answer to a read or HEAD, the
// CRC64 the listing reported for obj when the answer has none and
// describes the same version (same size; same mtime where it tells one).
// A snapshot's manifest lists every object's CRC64 while the stored copy
// may report none: this is what makes a restore check each byte it
// reads against the manifest (VerifySource), on any worker.
func withListedCRC64(obj task.Object, src storage.ObjectInfo) storage.ObjectInfo {
	if src.HasCRC64 || !obj.HasCRC64 || src.Size != obj.Size {
		return src
	}
	if !src.ModTime.IsZero() && !obj.ModTime.IsZero() && !src.ModTime.Equal(obj.ModTime) {
		return src
	}
	src.CRC64, src.HasCRC64 = obj.CRC64, true
	return src
}
