package s3

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-migrate/ferry/storage"
)

// ossForbidOverwrite is OSS's create-only switch, honoured on PutObject,
// CopyObject and CompleteMultipartUpload (409 FileAlreadyExists). The SDK
// does not model it; it is added before signing, so it is signed.
const ossForbidOverwrite = "X-Oss-Forbid-Overwrite"

// writeCondition is how one write carries c: S3's If-None-Match/If-Match
// fields, or for the OSS flavour an extra header. OSS has no If-Match on
// writes, so "replace exactly this version" is refused up front there
// (ErrConditionUnsupported): sending S3's header to OSS would not be
// enforced, and the write would clobber what it was meant to protect.
type writeCondition struct {
	ifNoneMatch, ifMatch *string
	opts                 []func(*awss3.Options)
	ossForbid            bool // opts adds ossForbidOverwrite (for direct requests)
}

func (b *Backend) writeCondition(op, key string, c storage.Condition) (writeCondition, error) {
	var w writeCondition
	if err := c.Validate(); err != nil {
		return w, &storage.Error{Backend: b.name, Op: op, Key: key, Err: err}
	}
	switch {
	case c.IsZero():
	case b.cfg.Flavor == FlavorOSS && c.IfAbsent:
		w.ossForbid = true
		w.opts = append(w.opts, func(o *awss3.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(ossForbidOverwrite, "true"))
		})
	case b.cfg.Flavor == FlavorOSS:
		return w, &storage.Error{Backend: b.name, Op: op, Key: key, Err: fmt.Errorf(
			"%w: OSS has no If-Match on writes; only create-only (x-oss-forbid-overwrite) is enforced", storage.ErrConditionUnsupported)}
	case c.IfAbsent:
		w.ifNoneMatch = aws.String("*")
	case c.IfMatch.ETag == "":
		return w, &storage.Error{Backend: b.name, Op: op, Key: key, Err: fmt.Errorf(
			"%w: if-match needs the ETag that Stat reported", storage.ErrConditionUnsupported)}
	default:
		w.ifMatch = aws.String(`"` + storage.TrimETag(c.IfMatch.ETag) + `"`)
	}
	return w, nil
}

// wrapWrite is wrap for a conditional write. S3 answers an If-Match whose
// object is gone with 404 NoSuchKey: the checked version is not there any
// more, so the condition failed, and the error says both. A store that
// does not implement the header may say so (501 NotImplemented): that is
// ErrConditionUnsupported, which is not retried, where a bare 501 would be
// taken for a transient server failure.
func (b *Backend) wrapWrite(op, key string, c storage.Condition, err error) error {
	werr := b.wrap(op, key, err)
	var se *storage.Error
	if c.IsZero() || !errors.As(werr, &se) || errors.Is(werr, storage.ErrPrecondition) {
		return werr
	}
	var respErr *awshttp.ResponseError
	switch {
	case !c.IfMatch.IsZero() && errors.Is(werr, storage.ErrNotFound):
		se.Err = fmt.Errorf("%w: %w", storage.ErrPrecondition, se.Err)
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusNotImplemented:
		se.Err = fmt.Errorf("%w (%s): %w", storage.ErrConditionUnsupported, c, err)
	}
	return werr
}
