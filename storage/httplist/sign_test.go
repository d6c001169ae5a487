package httplist

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vectors from OSS's V1 signature docs. The header example's signature
// (26NBxo...) is the documented one. The URL example's documented
// Signature (vjbyPx...) does not follow from its own inputs, as OSS's SDK
// tests note; they use EwaNTn..., the HMAC of the doc's string to sign,
// which is what every SDK and OSS compute.
func TestOSSSignatureV1KnownVectors(t *testing.T) {
	const secret = "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV"
	assert.Equal(t, "26NBxoKdsyly4EDv6inkoDft/yA=", OSSSignatureV1(secret,
		"PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\nThu, 17 Nov 2005 18:49:58 GMT\n"+
			"x-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n/oss-example/nelson"))
	assert.Equal(t, "EwaNTn1erJGkimiJ9WmXgwnANLc=", OSSSignatureV1(secret, "GET\n\n\n1141889120\n/oss-example/oss-api.pdf"))
}

func TestOSSSignerSign(t *testing.T) {
	exp := time.Unix(1141889120, 0)
	t.Run("bucket from the host", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, "https://oss-example.oss-cn-hangzhou.aliyuncs.com/oss-api.pdf?Signature=old", nil)
		require.NoError(t, err)
		OSSSigner{AccessKey: "nz2pc56s936**9l", SecretKey: "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV"}.Sign(req, exp)
		q := req.URL.Query()
		assert.Equal(t, "nz2pc56s936**9l", q.Get("OSSAccessKeyId"))
		assert.Equal(t, "1141889120", q.Get("Expires"))
		assert.Equal(t, []string{"EwaNTn1erJGkimiJ9WmXgwnANLc="}, q["Signature"], "the list's old signature is replaced")
	})
	t.Run("explicit bucket, port, decoded path, STS token", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodHead, "https://cdn.example.com:8443/a%20b/%E6%97%A5.jpg", nil)
		require.NoError(t, err)
		s := OSSSigner{AccessKey: "ak", SecretKey: "sk", SecurityToken: "tok", Bucket: "bkt"}
		s.Sign(req, exp)
		q := req.URL.Query()
		assert.Equal(t, "tok", q.Get("security-token"))
		want := OSSSignatureV1("sk", "HEAD\n\n\n1141889120\n/bkt/a b/日.jpg?security-token=tok")
		assert.Equal(t, want, q.Get("Signature"))
		assert.NotContains(t, s.String(), "sk")
	})
	t.Run("bucket is the host's first label", func(t *testing.T) {
		assert.Equal(t, "mybucket", OSSSigner{}.bucketOf("mybucket.localhost:9000"))
		assert.Equal(t, "mybucket", OSSSigner{}.bucketOf("mybucket.oss-cn-beijing.aliyuncs.com"))
	})
}
