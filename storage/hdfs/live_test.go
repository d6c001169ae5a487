package hdfs

import (
	"fmt"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// TestLiveConformance runs the source conformance suite against a real
// cluster, through the real client adapter:
//
//	HDFS_NAMENODE=nn1:8020[,nn2:8020]  the namenode(s)
//	HDFS_USER=hdfs                     the user to act as (default: as the adapter picks)
//	HDFS_TEST_DIR=/tmp                 a writable directory (default /tmp)
//
// It skips without HDFS_NAMENODE, CI=true included: this is the one
// exception to "a test that needs a server fails in CI", because no HDFS
// can run on the machines that test ferry (no Hadoop packages, no Maven).
// Everything behind the adapter is tested there against the in-memory
// fake instead.
func TestLiveConformance(t *testing.T) {
	nn := os.Getenv("HDFS_NAMENODE")
	if nn == "" {
		t.Skip("HDFS_NAMENODE is not set: no HDFS cluster to test against (none can run on ferry's test machines; see README)")
	}
	cfg := Config{Namenodes: strings.Split(nn, ","), User: os.Getenv("HDFS_USER")}
	if cfg.User == "" {
		cfg.User = defaultUser()
	}
	base := os.Getenv("HDFS_TEST_DIR")
	if base == "" {
		base = "/tmp"
	}
	// Fixtures are written with the client directly: the backend is
	// read-only.
	c, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: cfg.Namenodes, User: cfg.User})
	require.NoError(t, err, "connecting to %s", nn)
	t.Cleanup(func() { _ = c.Close() })

	n := 0
	storagetest.RunSource(t, storagetest.SourceHarness{
		Seed: func(t *testing.T, objs map[string][]byte) storage.Backend {
			n++
			root := path.Join(base, fmt.Sprintf("ferry-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), n))
			require.NoError(t, c.MkdirAll(root, 0o755))
			t.Cleanup(func() { _ = c.RemoveAll(root) })
			for k, data := range objs {
				p := path.Join(root, k)
				require.NoError(t, c.MkdirAll(path.Dir(p), 0o755))
				w, err := c.Create(p)
				require.NoError(t, err, "create %s", p)
				_, err = w.Write(data)
				require.NoError(t, err)
				require.NoError(t, w.Close())
			}
			lc := cfg
			lc.Root = root
			b, err := New(lc, Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = b.Close() })
			require.NoError(t, b.Check(t.Context()))
			return b
		},
		// dfs.namenode.fs-limits.max-component-length defaults to 255.
		MaxSegment: 255,
	})
}
