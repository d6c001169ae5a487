package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"strings"
	"syscall"

	"github.com/ferry-migrate/ferry/storage"
)

// Reasons given to Options.OnSkip; test with errors.Is.
var (
	ErrSymlink = errors.New("symbolic link not followed")
)

// remoteError is what the client returns for a Java exception raised by a
// namenode or datanode (hdfs.Error); only the class name is needed here.
type remoteError interface {
	Exception() string
}

// Texts of client errors that carry no type to test: the client builds
// them with errors.New, or formats the cause in with %s, not %w.
const (
	// No namenode of the list answered (the dial error is in the text).
	noNamenode = "no available namenodes"
	// Every datanode holding a block failed to serve it.
	noDatanode = "no available datanodes"
	// A datanode sent a chunk whose CRC32C did not match.
	badChecksum = "invalid checksum"
)

// Remote exception classes that mean "try again": the namenode is a
// standby, in safe mode (starting up), or asked the client to retry.
var transientExceptions = map[string]bool{
	"org.apache.hadoop.ipc.StandbyException":                   true,
	"org.apache.hadoop.ipc.RetriableException":                 true,
	"org.apache.hadoop.hdfs.server.namenode.SafeModeException": true,
	"org.apache.hadoop.ipc.ServerTooBusyException":             true,
	"java.net.ConnectException":                                true,
	"java.net.SocketTimeoutException":                          true,
	"java.io.EOFException":                                     true,
}

// Remote exception classes that mean the credentials are not accepted:
// nothing in the job can succeed until an operator acts.
var authExceptions = map[string]bool{
	"org.apache.hadoop.security.authorize.AuthorizationException": true,
	"javax.security.sasl.SaslException":                           true,
}

// classify maps a client error onto a storage sentinel, as
// "sentinel: client error", keeping the client's error (which names the
// path) in the chain. storage.Classify then decides about retries.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, s := range [...]error{
		storage.ErrNotFound, storage.ErrAccessDenied, storage.ErrInvalidKey, storage.ErrInvalidRange,
		storage.ErrBucketNotFound, storage.ErrUnavailable, storage.ErrCorrupt, storage.ErrAuth, storage.ErrConfig,
	} {
		if errors.Is(err, s) {
			return err // classified where it arose
		}
	}
	var (
		remote remoteError
		netErr net.Error
	)
	var sentinel error
	switch {
	case errors.Is(err, iofs.ErrNotExist),
		errors.As(err, &remote) && remote.Exception() == "org.apache.hadoop.fs.ParentNotDirectoryException":
		// A file where the key needs a directory: the key cannot exist.
		sentinel = storage.ErrNotFound
	case errors.Is(err, iofs.ErrPermission):
		sentinel = storage.ErrAccessDenied
	case errors.As(err, &remote) && transientExceptions[remote.Exception()]:
		sentinel = storage.ErrUnavailable
	case errors.As(err, &remote) && authExceptions[remote.Exception()]:
		sentinel = storage.ErrAuth
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		// io.EOF from a call (not a read's end, which never gets here) is
		// a connection the namenode or a datanode closed mid-answer.
		sentinel = storage.ErrUnavailable
	case errors.As(err, &netErr) && netErr.Timeout():
		sentinel = storage.ErrUnavailable
	case strings.Contains(err.Error(), noNamenode), strings.Contains(err.Error(), noDatanode):
		sentinel = storage.ErrUnavailable
	case strings.Contains(err.Error(), badChecksum):
		sentinel = storage.ErrCorrupt // retried: another read may get good bytes
	default:
		return err // storage.Classify still knows DNS and TLS errors
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}
