package s3

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/ferry-migrate/ferry/storage"
)

// translate maps an SDK error to the storage sentinels so storage.Classify
// can decide, keeping the SDK error (with its request id) in the chain.
// Network and context errors pass through: Classify understands them.
func translate(err error) error {
	if err == nil {
		return nil
	}
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	code := ""
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	if s := sentinel(code, status, err); s != nil {
		return fmt.Errorf("%w: %w", s, err)
	}
	return err
}

func sentinel(code string, status int, err error) error {
	switch code {
	case "NoSuchKey", "NotFound":
		return storage.ErrNotFound
	case "NoSuchBucket":
		return storage.ErrBucketNotFound
	case "NoSuchUpload":
		return storage.ErrNoSuchUpload
	case "PreconditionFailed", "FileAlreadyExists":
		// S3's 412 for If-None-Match/If-Match, OSS's 409 for
		// x-oss-forbid-overwrite.
		return storage.ErrPrecondition
	case "ConditionalRequestConflict":
		// S3's 409 when a concurrent write to the key raced ours: AWS
		// asks for a retry, which then meets the winner's object.
		return storage.ErrUnavailable
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return storage.ErrAccessDenied
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
		"TokenRefreshRequired", "InvalidSecurity", "AuthorizationHeaderMalformed",
		"SecurityTokenExpired", "InvalidSecurityToken":
		return storage.ErrAuth
	case "SecondLevelDomainForbidden":
		// OSS refusing path style: a configuration problem for every request.
		return fmt.Errorf("%w (OSS needs virtual-hosted style)", storage.ErrConfig)
	case "InvalidArgument":
		if strings.Contains(err.Error(), "aws-chunked") {
			return fmt.Errorf("%w (the server refuses aws-chunked bodies: use checksums=when_required)", storage.ErrConfig)
		}
		return nil
	case "XAmzContentSHA256Mismatch", "BadDigest", "InvalidDigest":
		return storage.ErrCorrupt
	case "InvalidRange":
		return storage.ErrInvalidRange
	case "KeyTooLongError", "InvalidObjectName", "InvalidURI":
		return storage.ErrInvalidKey
	case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
		"TooManyRequests", "RequestThrottled", "QpsLimitExceeded", "DownloadTrafficRateLimitExceeded":
		return storage.ErrThrottled
	case "RequestTimeTooSkewed":
		return fmt.Errorf("%w (this machine's clock is off; sync it with NTP)", storage.ErrConfig)
	case "InternalError", "ServiceUnavailable", "RequestTimeout":
		return storage.ErrUnavailable
	}
	switch {
	case status == 404:
		return storage.ErrNotFound
	case status == 403:
		return storage.ErrAccessDenied
	case status == 416:
		return storage.ErrInvalidRange
	case status == 412:
		return storage.ErrPrecondition
	case status == 429 || status == 503:
		return storage.ErrThrottled
	case status >= 500:
		return storage.ErrUnavailable
	}
	return nil
}

// wrap names the backend, operation and key around a translated error.
func (b *Backend) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	return &storage.Error{Backend: b.name, Op: op, Key: key, Err: translate(err)}
}
