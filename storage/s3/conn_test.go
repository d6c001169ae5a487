package s3_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// TestConnectionsAreReused counts the TCP connections the backend opens
// while it runs every kind of request a copy makes, one after another, on a
// server that keeps connections alive. A response body left unread or
// unclosed (an error answer included) makes net/http drop the connection, and
// every new one costs a TLS handshake on both ends: on small objects that
// was half of a copy's CPU.
func TestConnectionsAreReused(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	srv.CreateBucket(t, "reuse")
	var dials atomic.Int64
	c := s3Config(srv)
	c.Bucket = "reuse"
	c.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return testserver.LocalhostDialer(ctx, network, addr)
	}
	b, err := s3.New(t.Context(), c)
	require.NoError(t, err)
	ctx := t.Context()
	data := strings.Repeat("x", 16<<10)

	_, err = b.Put(ctx, "k", strings.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
	require.NoError(t, err)
	require.EqualValues(t, 1, dials.Load(), "the first request opens the one connection")

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"put", func(t *testing.T) {
			_, err := b.Put(ctx, "k", strings.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
			require.NoError(t, err)
		}},
		{"stat", func(t *testing.T) {
			_, err := b.Stat(ctx, "k")
			require.NoError(t, err)
		}},
		{"stat of a missing key", func(t *testing.T) {
			_, err := b.Stat(ctx, "missing")
			require.ErrorIs(t, err, storage.ErrNotFound)
		}},
		{"open of a missing key", func(t *testing.T) {
			_, _, err := b.Open(ctx, "missing", 0, -1)
			require.ErrorIs(t, err, storage.ErrNotFound)
		}},
		{"open, read to the end, close", func(t *testing.T) {
			rc, _, err := b.Open(ctx, "k", 0, -1)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
		}},
		{"list", func(t *testing.T) {
			require.NoError(t, b.List(ctx, "", "", func(storage.ObjectInfo) error { return nil }))
		}},
		{"put streamed from an open", func(t *testing.T) {
			// Two requests in flight at once: the second connection is
			// opened once, on the first round, and reused after.
			rc, info, err := b.Open(ctx, "k", 0, -1)
			require.NoError(t, err)
			_, err = b.Put(ctx, "k2", rc, storage.ObjectInfo{Size: info.Size})
			require.NoError(t, err)
			require.NoError(t, rc.Close())
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for range 3 {
				s.run(t)
			}
		})
	}
	assert.LessOrEqual(t, dials.Load(), int64(2),
		"sequential requests must reuse connections (two for the streamed put)")
}
