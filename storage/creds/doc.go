package creds

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// document is the JSON a credentials command prints or a credentials file
// holds: Alibaba CLI's external-process format (AccessKeyId,
// AccessKeySecret, SecurityToken, Expiration), or AWS credential_process
// output (Version 1, AccessKeyId, SecretAccessKey, SessionToken,
// Expiration).
type document struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SecurityToken   string `json:"SecurityToken"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// errFormat is wrapped by every parse error: callers name the command or
// file, never the content (it holds secrets).
var errFormat = errors.New("not credentials JSON")

// parseDocument reads b. Its errors say which field is wrong, never a
// value.
func parseDocument(b []byte, source string) (aws.Credentials, error) {
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		// json's messages quote offending bytes for some errors; only the
		// offset is kept.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return aws.Credentials{}, fmt.Errorf("%w: syntax error at byte %d", errFormat, se.Offset)
		}
		return aws.Credentials{}, fmt.Errorf("%w: expected an object with AccessKeyId, AccessKeySecret, SecurityToken, Expiration", errFormat)
	}
	if d.Version != 0 && d.Version != 1 {
		return aws.Credentials{}, fmt.Errorf("%w: Version %d: only 1 is known", errFormat, d.Version)
	}
	secret, token := d.AccessKeySecret, d.SecurityToken
	if secret == "" {
		secret = d.SecretAccessKey
	}
	if token == "" {
		token = d.SessionToken
	}
	if d.AccessKeyID == "" || secret == "" {
		return aws.Credentials{}, fmt.Errorf("%w: AccessKeyId and AccessKeySecret (or SecretAccessKey) are required", errFormat)
	}
	c := aws.Credentials{AccessKeyID: d.AccessKeyID, SecretAccessKey: secret, SessionToken: token, Source: source}
	if d.Expiration != "" {
		exp, err := time.Parse(time.RFC3339, d.Expiration)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("%w: Expiration is not an RFC 3339 time", errFormat)
		}
		c.CanExpire, c.Expires = true, exp
	}
	return c, nil
}

// maxRefreshAhead caps how long before expiry credentials are renewed;
// within it, a quarter of the remaining lifetime is used, so that STS's
// 15-minute tokens renew about 4 minutes early and a test's 5-second ones
// 1.25 s early.
const maxRefreshAhead = 5 * time.Minute

// refreshAhead moves Expires earlier so the cache (whose own window is 0)
// asks again before the server would refuse the credentials.
func refreshAhead(c aws.Credentials, now time.Time) aws.Credentials {
	if !c.CanExpire {
		return c
	}
	ahead := min(c.Expires.Sub(now)/4, maxRefreshAhead)
	if ahead > 0 {
		c.Expires = c.Expires.Add(-ahead)
	}
	return c
}

// newCache wraps p the way every provider here is wrapped: no extra window
// (refreshAhead has moved Expires already) and no jitter, so refreshes are
// predictable.
func newCache(p aws.CredentialsProvider) *aws.CredentialsCache {
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = 0
		o.ExpiryWindowJitterFrac = 0
	})
}
