// Package backends builds a storage.Backend from a plain Spec: the one place
// that knows every backend type. Config parsing (conf) produces Specs; the
// master and workers call Open. Every backend comes wrapped in
// storage/retry.
package backends

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage"
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
	// HTTP is a URL list (OssImport's srcType=http): a source only.
	HTTP Type = "http"
)

// Supported lists the types Open accepts, for error messages.
var Supported = []Type{Local, S3, OSS, HTTP}

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

	PathStyle      bool
	CABundle       string
	ChecksumMode   string // s3.Checksum*; "" = auto
	ListPageSize   int32  // 0 = server default
	FollowSymlinks bool   // local sources
	// Snapshot: the source is one snapshot, Prefix, of a backupKind=
	// snapshot job; Open returns it read through its manifest
	// (snapshot.Source), listing keys relative to Prefix.
	Snapshot bool

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
	OnSkip      func(key string, reason error) // local: symlinks, special files
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	Retry       retry.Policy // zero value = defaults
}

// String describes the spec without secrets.
func (s Spec) String() string {
	switch s.Type {
	case Local:
		return fmt.Sprintf("local %s", s.LocalPath())
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
		c := s3.Config{
			Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, PathStyle: s.PathStyle,
			AccessKey: s.AccessKey, SecretKey: s.SecretKey, SessionToken: s.SessionToken,
			CABundle: s.CABundle, Checksums: s.ChecksumMode, PageSize: s.ListPageSize,
			DialContext: s.DialContext,
		}
		if s.Type == OSS {
			c.Flavor = s3.FlavorOSS
		}
		b, err = s3.New(ctx, c)
	case HTTP:
		b, err = openHTTP(s)
	default:
		names := make([]string, len(Supported))
		for i, t := range Supported {
			names[i] = string(t)
		}
		return nil, fmt.Errorf("storage type %q is not supported (supported: %s)", s.Type, strings.Join(names, ", "))
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
	if s.Type == HTTP {
		return nil, fmt.Errorf("an HTTP URL list is a source only: it cannot be a destination")
	}
	if s.Type == Local {
		if err := os.MkdirAll(s.Root, 0o755); err != nil {
			return nil, fmt.Errorf("creating the destination directory: %w", err)
		}
	}
	return Open(ctx, s)
}

// Format prints String() for every verb, so %v, %+v and %#v of a Spec (or
// of anything holding one) never show credentials.
func (s Spec) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// GoString keeps %#v as safe as %v.
func (s Spec) GoString() string { return s.String() }
