package task

import "fmt"

// VerifyMode selects how copies are verified (DESIGN §6). conf reads it
// from the job's verify key; the worker's copier acts on it.
type VerifyMode string

const (
	// VerifyAuto compares what the copier computed while streaming with the
	// strongest check the destination offers: its CRC64 (OSS), else the
	// source's own checksum, which the destination validated (S3), else an
	// MD5-shaped ETag (single-part MD5, or the multipart ETag), else size.
	// The CRC64 of the bytes is always computed and kept in the manifest.
	// The default.
	VerifyAuto VerifyMode = "auto"
	// VerifyReread does what auto does, then reads the destination back
	// and compares its CRC64.
	VerifyReread VerifyMode = "reread"
	// VerifySize trusts no ETag, for stores whose ETags only look like MD5s
	// (S3 with SSE-KMS or SSE-C): CRC64s and validated checksums are still
	// compared where reported, since they cannot be mistaken for anything
	// else.
	VerifySize VerifyMode = "size"
	// VerifyOff computes no digest at all and compares sizes only: the
	// manifest then holds no CRC64 either. It exists to measure what
	// verification costs, and for stores verified by other means.
	VerifyOff VerifyMode = "off"
)

// Check returns an error that names m and the modes there are, unless m
// is one of them.
func (m VerifyMode) Check() error {
	switch m {
	case VerifyAuto, VerifyReread, VerifySize, VerifyOff:
		return nil
	}
	return fmt.Errorf("%q: use %s, %s, %s or %s", string(m), VerifyAuto, VerifyReread, VerifySize, VerifyOff)
}

// Defaults of CopySettings, which are also the documented defaults of the
// config keys (docs/job-config.md). The multipart figures are ferry's:
// OssImport's multipartUploadThreshold default is 150 MiB, and its stock
// files set that explicitly.
const (
	DefaultMultipartThreshold = 100 << 20
	DefaultPartSize           = 50 << 20
	DefaultPartsInFlight      = 4
	DefaultRetries            = 3
	DefaultVerify             = VerifyAuto
)

// CopySettings is how a job's objects are copied: what conf reads from
// the job config and the worker's copier acts on. A zero field means
// "the default" (WithDefaults).
type CopySettings struct {
	// Overwrite says when an existing destination object may be replaced
	// (overwritePolicy, or isSkipExistFile as OssImport wrote it).
	Overwrite OverwritePolicy
	// Objects of MultipartThreshold bytes or more are uploaded in parts of
	// PartSize (the copier raises it for objects that would need more parts
	// than the store allows), PartsInFlight at a time, when the destination
	// supports multipart uploads.
	MultipartThreshold int64
	PartSize           int64
	PartsInFlight      int
	Verify             VerifyMode
	// Retries bounds the attempts of one object. An attempt of a multipart
	// copy that stored parts before it failed made progress, and restarts
	// the count: the next attempt resumes, so a large object is not failed
	// over a few hiccups spread over hours.
	Retries int
}

// WithDefaults returns s with every zero (or negative) field set to its
// default. An unknown Verify or Overwrite is left as it is, for the
// consumer to refuse (VerifyMode.Check, OverwritePolicy.Check).
func (s CopySettings) WithDefaults() CopySettings {
	if s.MultipartThreshold <= 0 {
		s.MultipartThreshold = DefaultMultipartThreshold
	}
	if s.PartSize <= 0 {
		s.PartSize = DefaultPartSize
	}
	if s.PartsInFlight <= 0 {
		s.PartsInFlight = DefaultPartsInFlight
	}
	if s.Verify == "" {
		s.Verify = DefaultVerify
	}
	if s.Retries <= 0 {
		s.Retries = DefaultRetries
	}
	if s.Overwrite == "" {
		s.Overwrite = DefaultOverwrite
	}
	return s
}
