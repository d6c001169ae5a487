package creds

import (
	"context"
	"fmt"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ferry-migrate/ferry/storage"
)

// aliyunRecheck is how long an answer of Alibaba's library is trusted.
// The library does not say when its credentials expire; it caches them
// and renews them itself ahead of expiry (ECS RAM role: 3 minutes before,
// AssumeRole and OIDC likewise), so asking it again every minute costs a
// lock and keeps us within its window.
const aliyunRecheck = time.Minute

// aliyun adapts a provider of github.com/aliyun/credentials-go (Alibaba's
// own: ECS RAM role via the metadata service, RRSA/OIDC on ACK,
// AssumeRole) to the SDK's interface.
type aliyun struct {
	p    providers.CredentialsProvider
	name string
	now  func() time.Time
}

// Retrieve asks the library. Its errors are retryable: the metadata
// service or STS may be briefly unreachable.
func (a *aliyun) Retrieve(_ context.Context) (aws.Credentials, error) {
	c, err := a.p.GetCredentials()
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%s credentials: %w: %w", a.name, err, storage.ErrUnavailable)
	}
	if c == nil || c.AccessKeyId == "" || c.AccessKeySecret == "" {
		return aws.Credentials{}, fmt.Errorf("%s credentials: the provider returned no access key: %w", a.name, storage.ErrUnavailable)
	}
	return aws.Credentials{
		AccessKeyID: c.AccessKeyId, SecretAccessKey: c.AccessKeySecret, SessionToken: c.SecurityToken,
		Source: a.name, CanExpire: true, Expires: a.now().Add(aliyunRecheck),
	}, nil
}

// newAliyun builds the library's provider for s. http carries test hooks
// (a metadata-service proxy); nil in production.
func newAliyun(s Spec, o Options, http *providers.HttpOptions) (*aliyun, error) {
	var (
		p   providers.CredentialsProvider
		err error
	)
	switch s.Kind {
	case KindECSRAMRole:
		// The role name is optional: the metadata service names the
		// instance's role. IMDSv2 (a session token) is tried first.
		p, err = providers.NewECSRAMRoleCredentialsProviderBuilder().
			WithRoleName(s.Arg).WithHttpOptions(http).Build()
	case KindRRSA:
		// Everything comes from the pod's environment, which ACK's RRSA
		// webhook sets: ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
		// ALIBABA_CLOUD_OIDC_TOKEN_FILE (re-read at each renewal).
		p, err = providers.NewOIDCCredentialsProviderBuilder().WithHttpOptions(http).Build()
	case KindAssumeRole:
		var src providers.CredentialsProvider
		if o.SessionToken != "" {
			src, err = providers.NewStaticSTSCredentialsProviderBuilder().
				WithAccessKeyId(o.AccessKey).WithAccessKeySecret(o.SecretKey).WithSecurityToken(o.SessionToken).Build()
		} else {
			src, err = providers.NewStaticAKCredentialsProviderBuilder().
				WithAccessKeyId(o.AccessKey).WithAccessKeySecret(o.SecretKey).Build()
		}
		if err == nil {
			p, err = providers.NewRAMRoleARNCredentialsProviderBuilder().
				WithCredentialsProvider(src).WithRoleArn(s.Arg).WithRoleSessionName("ferry").
				WithHttpOptions(http).Build()
		}
	default:
		return nil, fmt.Errorf("creds: %s is not an Alibaba provider", s.Kind)
	}
	if err != nil {
		// The library's builder errors name missing settings (environment
		// variables, role ARN), never secrets.
		return nil, fmt.Errorf("credentials %s: %w", s.Kind, err)
	}
	return &aliyun{p: p, name: string(s.Kind), now: time.Now}, nil
}
