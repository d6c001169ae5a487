// Package testmaster starts a real master for tests: a master.Manager on
// a tracker in a data dir, served by master/server on a listener on
// 127.0.0.1, stopped when the test ends. Tests of gRPC clients (the admin
// client, the worker command) use it instead of a fake service.
package testmaster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/master/server"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Master is a running master.
type Master struct {
	Addr    string // host:port it listens on
	Manager *master.Manager
	DataDir string
}

// Start runs a master on dataDir (t.TempDir() when empty), with auth's
// certificate and token, until the test ends.
func Start(t testing.TB, dataDir string, auth rpcauth.Config) *Master {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	st, err := tracker.Open(dataDir, tracker.Options{})
	require.NoError(t, err)
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: dataDir, Heartbeat: time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, m.Start(ctx))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- server.New(m, nil).Serve(ctx, lis, auth) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-served)
		m.Close()
		assert.NoError(t, st.Close())
	})
	return &Master{Addr: lis.Addr().String(), Manager: m, DataDir: dataDir}
}

// WorkOnce plays one worker round on m: it leases what there is and
// reports every object verified (outcome may change each result), then
// acks. Tests that need a pass to end without copying use it.
func WorkOnce(t testing.TB, m *master.Manager, outcome func(*task.Result)) {
	t.Helper()
	ctx := context.Background()
	gs, err := m.Lease(ctx, "w", 4)
	require.NoError(t, err)
	for _, g := range gs {
		res := make([]task.Result, len(g.Objects))
		for i, o := range g.Objects {
			res[i] = task.Result{Key: o.Key, Dest: o.Dest, Size: o.Size, Status: task.StatusVerified, Method: task.MethodSize}
			if outcome != nil {
				outcome(&res[i])
			}
		}
		require.NoError(t, m.Report(ctx, "w", g.Ref(), res))
		_, err := m.Ack(ctx, "w", g.Ref())
		require.NoError(t, err)
	}
}

// LocalJob writes n one-byte source files and returns a local -> local
// config of job name with shards of 4 objects.
func LocalJob(t testing.TB, name string, n int) string {
	t.Helper()
	src := t.TempDir()
	b, err := local.New(src, local.Options{})
	require.NoError(t, err)
	for i := range n {
		_, err := b.Put(context.Background(), fmt.Sprintf("o%02d", i), bytes.NewReader([]byte{byte(i)}), storage.ObjectInfo{Size: 1})
		require.NoError(t, err)
	}
	return strings.Join([]string{"jobName=" + name, "srcType=local", "srcPrefix=" + src, "destType=local",
		"destPrefix=" + filepath.Join(t.TempDir(), "dst"), "taskObjectCountLimit=4"}, "\n") + "\n"
}
