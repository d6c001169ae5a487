package ossproxy

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (e *env) clientAs(id, secret, token string) *s3.Client {
	return e.client(func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	})
}

func TestIssuerAdmitsOnlyWhatItKnows(t *testing.T) {
	e := newEnv(t)
	iss := e.p.RequireIssued(time.Second, e.up.AccessKey)

	// The upstream's own key is not one the issuer knows.
	_, err := e.client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	code, _, status := apiError(t, err)
	assert.Equal(t, "InvalidAccessKeyId", code)
	assert.Equal(t, 403, status)

	// Issued credentials work (the request is re-signed upstream), until
	// they expire.
	c := iss.Issue("src")
	tmp := e.clientAs(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	put(t, tmp, "k", []byte("hello"))
	assert.Equal(t, []byte("hello"), e.upstreamGet(t, "k"))
	n, _ := iss.Used(c.AccessKeyID)
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, iss.Issued("src"))

	// Another token, or none, is not this key's.
	_, err = e.clientAs(c.AccessKeyID, c.AccessKeySecret, "CAISforged").PutObject(t.Context(),
		&s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x")})
	code, _, _ = apiError(t, err)
	assert.Equal(t, "InvalidSecurityToken", code)
	// A wrong secret.
	_, err = e.clientAs(c.AccessKeyID, "wrong", c.SecurityToken).PutObject(t.Context(),
		&s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x")})
	code, _, _ = apiError(t, err)
	assert.Equal(t, "SignatureDoesNotMatch", code)

	require.Eventually(t, func() bool {
		_, err := tmp.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("late")})
		var code string
		if err != nil {
			code, _, _ = apiError(t, err)
		}
		return code == "SecurityTokenExpired"
	}, 5*time.Second, 50*time.Millisecond)
	assert.Positive(t, iss.Refused()["SecurityTokenExpired"])
}

func TestIssuerStaticKeysRevoked(t *testing.T) {
	e := newEnv(t)
	iss := e.p.RequireIssued(time.Minute, e.up.AccessKey)
	iss.AddStatic("LTAIoldkey0001", "old-secret")
	old := e.clientAs("LTAIoldkey0001", "old-secret", "")
	put(t, old, "a", []byte("1"))
	iss.Revoke("LTAIoldkey0001")
	_, err := old.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("b")})
	code, msg, _ := apiError(t, err)
	assert.Equal(t, "InvalidAccessKeyId", code)
	assert.Contains(t, msg, "does not exist in our records")
}
