package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// fakeRemote is what the client returns for a Java exception (hdfs.Error).
type fakeRemote struct{ class string }

func (e fakeRemote) Error() string     { return e.class + ": remote failure" }
func (e fakeRemote) Exception() string { return e.class }

func remoteErr(class string) error { return fakeRemote{class} }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func pathErr(err error) error { return &os.PathError{Op: "stat", Path: "/data/src/k", Err: err} }

var errorCases = []struct {
	name     string
	err      error
	sentinel error // nil: none
	class    storage.Class
}{
	{"missing file", pathErr(os.ErrNotExist), storage.ErrNotFound, storage.Permanent},
	{"permission", pathErr(os.ErrPermission), storage.ErrAccessDenied, storage.Permanent},
	{"standby namenode", remoteErr("org.apache.hadoop.ipc.StandbyException"), storage.ErrUnavailable, storage.Retryable},
	{"safe mode", remoteErr("org.apache.hadoop.hdfs.server.namenode.SafeModeException"), storage.ErrUnavailable, storage.Retryable},
	{"retriable", remoteErr("org.apache.hadoop.ipc.RetriableException"), storage.ErrUnavailable, storage.Retryable},
	{"not authorized", remoteErr("org.apache.hadoop.security.authorize.AuthorizationException"), storage.ErrAuth, storage.Fatal},
	{"sasl refused", remoteErr("javax.security.sasl.SaslException"), storage.ErrAuth, storage.Fatal},
	{"parent is a file", remoteErr("org.apache.hadoop.fs.ParentNotDirectoryException"), storage.ErrNotFound, storage.Permanent},
	{"unknown remote", remoteErr("java.lang.IllegalStateException"), nil, storage.Permanent},
	{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, storage.ErrUnavailable, storage.Retryable},
	{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), storage.ErrUnavailable, storage.Retryable},
	{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, storage.ErrUnavailable, storage.Retryable},
	{"no namenode answers", fmt.Errorf("no available namenodes: %s", "dial tcp 10.0.0.1:8020: connect: connection refused"), storage.ErrUnavailable, storage.Retryable},
	{"no datanode serves a block", errors.New("no available datanodes"), storage.ErrUnavailable, storage.Retryable},
	{"corrupt chunk", errors.New("invalid checksum"), storage.ErrCorrupt, storage.Retryable},
	{"namenode hung up", io.EOF, storage.ErrUnavailable, storage.Retryable},
	{"truncated answer", io.ErrUnexpectedEOF, storage.ErrUnavailable, storage.Retryable},
	{"canceled", context.Canceled, nil, storage.Canceled},
	{"deadline", context.DeadlineExceeded, nil, storage.Canceled},
	{"already classified", fmt.Errorf("%w: kerberos", storage.ErrAuth), storage.ErrAuth, storage.Fatal},
	{"anything else", errors.New("mystery"), nil, storage.Permanent},
}

func TestClassify(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			assert.ErrorIs(t, got, tc.err, "the client's error stays in the chain")
			if tc.sentinel != nil {
				assert.ErrorIs(t, got, tc.sentinel)
			}
			assert.Equal(t, tc.class, storage.Classify(got))
		})
	}
}

// Every method maps the same errors the same way, behind the interface.
func TestErrorsBehindTheInterface(t *testing.T) {
	for _, tc := range errorCases {
		if errors.Is(tc.err, context.Canceled) || errors.Is(tc.err, context.DeadlineExceeded) {
			continue // a ctx error from the client while ctx lives is not worth a case
		}
		t.Run(tc.name, func(t *testing.T) {
			b, f := fakeBackend(t, keyMap("k", "d/x"), Options{})
			f.fail(testRoot+"/k", tc.err)
			f.fail(testRoot+"/d", tc.err)
			_, err := b.Stat(t.Context(), "k")
			checkErr(t, b, "stat", "k", err, tc.sentinel, tc.class)
			_, _, err = b.Open(t.Context(), "k", 0, -1)
			checkErr(t, b, "stat", "k", err, tc.sentinel, tc.class)
			err = b.List(t.Context(), "d/", "", func(storage.ObjectInfo) error { return nil })
			if errors.Is(tc.sentinel, storage.ErrNotFound) {
				assert.NoError(t, err, "a prefix that names nothing lists nothing")
				return
			}
			checkErr(t, b, "list", "d/", err, tc.sentinel, tc.class)
		})
	}
}

func checkErr(t *testing.T, b *Backend, op, key string, err, sentinel error, class storage.Class) {
	t.Helper()
	require.Error(t, err)
	var se *storage.Error
	require.True(t, errors.As(err, &se), "%T is a *storage.Error", err)
	assert.Equal(t, b.String(), se.Backend)
	assert.Equal(t, op, se.Op)
	assert.Equal(t, key, se.Key)
	if sentinel != nil {
		assert.ErrorIs(t, err, sentinel)
	}
	assert.Equal(t, class, storage.Classify(err), "%v", err)
}

func TestReadOnly(t *testing.T) {
	b, f := fakeBackend(t, keyMap("k"), Options{})
	_, err := b.Put(t.Context(), "k", nil, storage.ObjectInfo{})
	assert.ErrorIs(t, err, ErrReadOnly)
	assert.Equal(t, storage.Fatal, storage.Classify(err), "no object of the job can be written: fix the config")
	assert.ErrorIs(t, b.Delete(t.Context(), "k"), ErrReadOnly)
	assert.Contains(t, f.nodes, testRoot+"/k")
}

// The real adapter, against an address where nothing listens: the
// client's unwrapped dial error is still retryable, and the backend
// connects again on the next call.
func TestAdapterUnreachableNamenode(t *testing.T) {
	b, err := New(Config{Namenodes: []string{"127.0.0.1:1"}, User: "ferry", Root: "/data"}, Options{})
	require.NoError(t, err, "New does not contact the cluster")
	assert.Equal(t, "hdfs hdfs://127.0.0.1:1/data", b.String())
	for range 2 {
		_, err = b.Stat(t.Context(), "k")
		assert.ErrorIs(t, err, storage.ErrUnavailable)
		assert.Equal(t, storage.Retryable, storage.Classify(err), "%v", err)
	}
	assert.Equal(t, storage.Retryable, storage.Classify(b.Check(t.Context())))
	assert.NoError(t, b.Close())
}
