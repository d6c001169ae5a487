package creds

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Static is a side's static keys, replaceable while clients use them:
// Set swaps the keys and invalidates the cache, so the next request is
// signed with the new ones. A worker holds it to apply keys given to a
// running job (`ferry credentials`).
type Static struct {
	mu    sync.Mutex
	inner credentials.StaticCredentialsProvider
	cache *aws.CredentialsCache
}

// NewStatic holds the given keys (token optional).
func NewStatic(accessKey, secretKey, token string) *Static {
	s := &Static{inner: credentials.NewStaticCredentialsProvider(accessKey, secretKey, token)}
	s.cache = newCache(aws.CredentialsProviderFunc(s.retrieve))
	return s
}

func (s *Static) retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	inner := s.inner
	s.mu.Unlock()
	c, err := inner.Retrieve(ctx)
	c.Source = string(KindStatic)
	return c, err
}

// Set replaces the keys; requests signed from now on use them.
func (s *Static) Set(accessKey, secretKey, token string) {
	s.mu.Lock()
	s.inner = credentials.NewStaticCredentialsProvider(accessKey, secretKey, token)
	s.mu.Unlock()
	s.cache.Invalidate()
}

// Provider is what an S3 client is given: the cache that Set invalidates.
func (s *Static) Provider() *aws.CredentialsCache { return s.cache }
