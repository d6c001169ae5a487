package s3_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/s3"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// harness gives each conformance case a fresh bucket on srv. A page size of
// 10 makes every listing of more than 10 keys span several pages.
func harness(srv *testserver.S3Server, base s3.Config, conds storage.Conditions) storagetest.Harness {
	var n atomic.Int64
	open := func(t *testing.T, c s3.Config) storage.Backend {
		b, err := s3.New(t.Context(), c)
		require.NoError(t, err)
		require.True(t, s3.UsesDirect(b), "the suite runs the direct GET and PUT against the server")
		return b
	}
	return storagetest.Harness{
		New: func(t *testing.T) (storage.Backend, func() storage.Backend) {
			c := base
			c.Bucket = fmt.Sprintf("conf-%d-%s", n.Add(1), strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))[:20])
			c.Bucket = strings.TrimRight(c.Bucket, "-")
			srv.CreateBucket(t, c.Bucket)
			return open(t, c), func() storage.Backend { return open(t, c) }
		},
		Denied: func(t *testing.T) (storage.Backend, string) {
			c := base
			c.Bucket = fmt.Sprintf("denied-%d", n.Add(1))
			srv.CreateBucket(t, c.Bucket)
			root := open(t, c)
			_, err := root.Put(t.Context(), "secret/object", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
			require.NoError(t, err)
			c.AccessKey, c.SecretKey = srv.UserAccessKey, srv.UserSecretKey
			return open(t, c), "secret/object"
		},
		MaxSegment:        255, // versitygw stores objects as files
		NoParentChildKeys: true,
		Conditions:        conds,
		CopyLimit:         func(b storage.Backend, limit int64) { s3.SetCopyLimit(b.(*s3.Backend), limit) },
	}
}

// versitygwConditions: versitygw (v1.8.0, posix) evaluates If-None-Match
// and If-Match on PutObject and CompleteMultipartUpload under its
// per-object publish lock (docs/conditional-writes.md).
var versitygwConditions = storage.Conditions{PutIfAbsent: true, PutIfMatch: true, CompleteIfAbsent: true, CompleteIfMatch: true}

func s3Config(srv *testserver.S3Server) s3.Config {
	return s3.Config{
		Endpoint:  srv.Endpoint,
		Region:    srv.Region,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		CABundle:  srv.Cert.CertFile,
		PathStyle: true,
		PageSize:  10,
	}
}

// TestConformance runs the storage suite against versitygw over TLS.
func TestConformance(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{WithUser: true})
	storagetest.Run(t, harness(srv, s3Config(srv), versitygwConditions))
}
