// Package backends builds a storage.Backend from a plain Spec: the one place
// that knows every backend type. Config parsing (conf) produces Specs; the
// master and workers call Open. Every backend comes wrapped in
// storage/retry.
package backends

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/creds"
	"github.com/ferry-migrate/ferry/storage/hdfs"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// Type names a backend kind as it appears in configs (srcType/destType).
type Type string

const (
	Local Type = "local"
	S3    Type = "s3"
	OSS   Type = "oss"
	// HDFS and HTTP (a URL list, OssImport's srcType=http) are sources
	// only: OpenDest refuses them.
	HDFS Type = "hdfs"
	HTTP Type = "http"
)

// Supported lists the types Open accepts as a source, for error messages.
var Supported = []Type{Local, S3, OSS, HDFS, HTTP}

// Destinations lists the types OpenDest accepts: the ones ferry can
// write.
var Destinations = []Type{Local, S3, OSS}

// Spec is everything needed to reach one side of a job. For Local, Root
// is the directory and Prefix is empty, but for a snapshot: the key
// prefix (a template, or one snapshot's) under Root, so that snapshots
// are keys of one backend whatever its type; for S3/OSS, Prefix is the
// key prefix inside Bucket.
type Spec struct {
	Type     Type
	Endpoint string // srcDomain/destDomain: https://host[:port]
	Region   string
	Bucket   string
	Prefix   string
	Root     string // local directory

	AccessKey    string // secret-adjacent: never printed
	SecretKey    string // secret: never printed
	SessionToken string // secret: never printed
	// Credentials (srcCredentials/destCredentials) says where the
	// credentials come from; the zero value is static keys when AccessKey
	// is set, else the environment (see package creds).
	Credentials creds.Spec

	PathStyle      bool
	CABundle       string
	ChecksumMode   string // s3.Checksum*; "" = auto
	ListPageSize   int32  // 0 = server default
	FollowSymlinks bool   // local sources
	// Snapshot: the source is one snapshot, Prefix, of a backupKind=
	// snapshot job; Open returns it read through its manifest
	// (snapshot.Source), listing keys relative to Prefix.
	Snapshot bool

	// HDFS sources: Root is the HDFS directory (absolute).
	HDFSNamenodes []string // host:port, several for HA
	HDFSUser      string   // "" = HADOOP_USER_NAME, else the OS user
	HDFSKerberos  hdfs.Kerberos

	// HTTP URL-list sources: the list (an absolute path, readable on the
	// master and on every worker: workers find a key's URL in it), its
	// 1-based columns, and the headers every request carries (Referer,
	// User-Agent, ...; may hold cookies or tokens: never printed). With
	// AccessKey/SecretKey (and SessionToken) set, every request carries
	// an OSS V1 query-string signature; SignBucket names the bucket it
	// signs for when the URL's host does not start with it.
	ListFile       string
	PrefixColumn   int
	RelativeColumn int
	Header         http.Header
	SignBucket     string

	// Not from configs: set by the program.
	OnSkip      func(key string, reason error) // local and hdfs sources: symlinks, special files, unreadable directories
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	Retry       retry.Policy // zero value = defaults
	// Keys, when set, serves the static keys instead of AccessKey,
	// SecretKey and SessionToken, so that its owner (a worker) can replace
	// them while the job runs.
	Keys *creds.Static
	// Log receives credential refreshes and a credentials command's
	// stderr; nil: slog.Default().
	Log *slog.Logger
}

// String describes the spec without secrets.
func (s Spec) String() string {
	switch s.Type {
	case Local:
		return fmt.Sprintf("local %s", s.LocalPath())
	case HDFS:
		return fmt.Sprintf("hdfs %s at %s", s.Root, strings.Join(s.HDFSNamenodes, ","))
	case HTTP:
		return fmt.Sprintf("http list %s", s.ListFile)
	default:
		where := s.Endpoint
		if where == "" {
			where = "AWS"
		}
		return fmt.Sprintf("%s bucket %q prefix %q at %s", s.Type, s.Bucket, s.Prefix, where)
	}
}

// SignsWithStaticKeys reports whether the side signs with the job's own
// keys (not a provider): the side a running job can be given new keys for
// (Keys.Set on the master and its workers).
func (s Spec) SignsWithStaticKeys() bool {
	return s.Type != Local && s.AccessKey != "" &&
		(s.Credentials.Kind == "" || s.Credentials.Kind == creds.KindStatic)
}

// LocalPath is a Local spec's path as a config names it: Root, plus
// Prefix as a directory below it when set.
func (s Spec) LocalPath() string {
	if s.Prefix == "" {
		return s.Root
	}
	return strings.TrimSuffix(s.Root, "/") + "/" + s.Prefix
}

// Open builds the backend, wrapped in retries. It does not contact the
// server; call storage.Checker.Check on the result for that.
func Open(ctx context.Context, s Spec) (storage.Backend, error) {
	var (
		b   storage.Backend
		err error
	)
	switch s.Type {
	case Local:
		b, err = local.New(s.Root, local.Options{FollowSymlinks: s.FollowSymlinks, OnSkip: s.OnSkip})
	case S3, OSS:
		provider, cerr := creds.New(ctx, s.Credentials, creds.Options{
			AccessKey: s.AccessKey, SecretKey: s.SecretKey, SessionToken: s.SessionToken,
			Keys: s.Keys, Log: s.Log,
		})
		if cerr != nil {
			return nil, fmt.Errorf("%s: %w", s, cerr)
		}
		c := s3.Config{
			Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, PathStyle: s.PathStyle,
			Credentials: provider,
			CABundle:    s.CABundle, Checksums: s.ChecksumMode, PageSize: s.ListPageSize,
			DialContext: s.DialContext,
		}
		if s.Type == OSS {
			c.Flavor = s3.FlavorOSS
		}
		b, err = s3.New(ctx, c)
	case HDFS:
		b, err = hdfs.New(hdfs.Config{Namenodes: s.HDFSNamenodes, User: s.HDFSUser, Root: s.Root, Kerberos: s.HDFSKerberos},
			hdfs.Options{OnSkip: s.OnSkip})
	case HTTP:
		b, err = openHTTP(s)
	default:
		return nil, fmt.Errorf("storage type %q is not supported (supported: %s)", s.Type, names(Supported))
	}
	if err != nil {
		return nil, err
	}
	b = retry.New(b, s.Retry)
	if s.Snapshot {
		return snapshot.NewSource(b, s.Prefix), nil
	}
	return b, nil
}

// OpenDest opens s as a job's destination: Open, after creating the
// directory of a local destination (with its parents), since a copy into
// a directory that does not exist yet is what an operator means. A
// source's directory is never created: a missing one is a typo, and Open
// reports it.
func OpenDest(ctx context.Context, s Spec) (storage.Backend, error) {
	if slices.Contains(Supported, s.Type) && !slices.Contains(Destinations, s.Type) {
		return nil, fmt.Errorf("storage type %q is supported as a source only (destinations: %s)", s.Type, names(Destinations))
	}
	if s.Type == Local {
		if err := os.MkdirAll(s.Root, 0o755); err != nil {
			return nil, fmt.Errorf("creating the destination directory: %w", err)
		}
	}
	return Open(ctx, s)
}

// names joins types for messages: "local, s3, oss".
func names(ts []Type) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return strings.Join(out, ", ")
}

// Format prints String() for every verb, so %v, %+v and %#v of a Spec (or
// of anything holding one) never show credentials.
func (s Spec) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// GoString keeps %#v as safe as %v.
func (s Spec) GoString() string { return s.String() }
