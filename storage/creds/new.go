package creds

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Options carry what a provider needs besides its Spec.
type Options struct {
	// The job's static keys: used by static, and by assume-role as the
	// identity that assumes the role.
	AccessKey, SecretKey, SessionToken string
	// Keys, when set, is the holder static keys are served from, so its
	// owner can replace them while the job runs; else New makes one.
	Keys *Static
	// Log receives refreshes and a command's stderr (never secrets);
	// nil: slog.Default().
	Log *slog.Logger
}

// New returns the provider for s, always an *aws.CredentialsCache (the S3
// backend uses it as is), or nil for env: the backend then reads the
// environment and the AWS chain itself. The zero Spec is static when
// AccessKey is set, else env.
func New(_ context.Context, s Spec, o Options) (aws.CredentialsProvider, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if s.Kind == "" {
		s.Kind = KindEnv
		if o.AccessKey != "" || o.Keys != nil {
			s.Kind = KindStatic
		}
	}
	hasKeys := o.AccessKey != "" || o.Keys != nil
	switch {
	case s.NeedsKeys() && !hasKeys:
		return nil, fmt.Errorf("credentials %s needs the access key and secret key", s.Kind)
	case !s.NeedsKeys() && hasKeys:
		return nil, fmt.Errorf("credentials %s takes no access key or secret key: remove them, or use static", s.Kind)
	}
	switch s.Kind {
	case KindEnv:
		return nil, nil
	case KindStatic:
		if o.Keys == nil {
			o.Keys = NewStatic(o.AccessKey, o.SecretKey, o.SessionToken)
		}
		return o.Keys.Provider(), nil
	case KindCommand:
		c, err := newCommand(s.Arg, o.Log)
		if err != nil {
			return nil, fmt.Errorf("credentials command: %w", err)
		}
		return newCache(c), nil
	case KindFile:
		return newCache(newFile(s.Arg, o.Log)), nil
	case KindECSRAMRole, KindRRSA, KindAssumeRole:
		a, err := newAliyun(s, o, nil)
		if err != nil {
			return nil, err
		}
		return newCache(a), nil
	}
	return nil, fmt.Errorf("credentials kind %q unknown", s.Kind)
}
