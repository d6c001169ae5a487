package s3

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Flavor selects provider quirks.
type Flavor string

const (
	// FlavorS3 is AWS S3 or a generic S3-compatible store.
	FlavorS3 Flavor = "s3"
	// FlavorOSS is Alibaba Cloud OSS through its S3-compatible API.
	FlavorOSS Flavor = "oss"
)

// Checksum modes for the SDK's request/response checksums.
const (
	ChecksumAuto          = "auto"           // when_supported on AWS, when_required elsewhere
	ChecksumWhenSupported = "when_supported" // SDK default: aws-chunked + CRC32 trailer over HTTPS
	ChecksumWhenRequired  = "when_required"  // only where the API demands one; no checksum passthrough either
)

// Config describes one bucket. The zero value of every optional field is a
// sane default; Validate reports what is wrong in terms of these names.
type Config struct {
	// Endpoint is the service URL (https://host[:port]); empty means AWS S3
	// in Region. An endpoint under aliyuncs.com selects the OSS flavour.
	Endpoint string
	// Region for request signing. Empty: derived from an OSS endpoint
	// (oss-cn-hangzhou -> cn-hangzhou), else us-east-1.
	Region string
	Bucket string
	// Flavor: "" detects from Endpoint.
	Flavor Flavor
	// PathStyle addresses the bucket in the path instead of the host name.
	// OSS refuses path style (SecondLevelDomainForbidden), so it is an error
	// with the OSS flavour.
	PathStyle bool

	// Static credentials. When AccessKey is empty, credentials come from
	// Credentials, else the environment: OSS_ACCESS_KEY_ID /
	// OSS_ACCESS_KEY_SECRET / OSS_SESSION_TOKEN for the OSS flavour, then the
	// standard AWS chain (AWS_ACCESS_KEY_ID, profiles, instance roles).
	// Credentials is wrapped in an aws.CredentialsCache unless it is one
	// (package storage/creds builds those).
	AccessKey    string
	SecretKey    string
	SessionToken string
	Credentials  aws.CredentialsProvider

	// CABundle is a PEM file of extra trusted CAs (added to the system's).
	// Empty: $AWS_CA_BUNDLE if set.
	CABundle string
	// Checksums is one of the Checksum* modes; "" means ChecksumAuto.
	Checksums string
	// PageSize is the ListObjectsV2 page size (MaxKeys); 0 means 1000.
	PageSize int32
	// DialContext replaces the TCP dialer, e.g. to reach virtual-hosted
	// bucket names that DNS does not know (tests), or to pin an address.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

var ossEndpoint = regexp.MustCompile(`(?:^|\.)oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$`)

// resolved is Config after defaults, detection and validation.
type resolved struct {
	Config
	host     string
	onAWS    bool
	caPool   *x509.CertPool
	required bool // checksums WhenRequired
}

func (c Config) resolve() (resolved, error) {
	r := resolved{Config: c}
	if c.Bucket == "" {
		return r, fmt.Errorf("s3: bucket is empty: set the bucket name")
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return r, fmt.Errorf("s3: endpoint %q is not a URL like https://host[:port]", c.Endpoint)
		}
		if u.Path != "" && u.Path != "/" {
			return r, fmt.Errorf("s3: endpoint %q has a path; give the bucket separately and the endpoint as https://host[:port]", c.Endpoint)
		}
		r.host = u.Hostname()
	}
	r.onAWS = c.Endpoint == "" || strings.HasSuffix(r.host, ".amazonaws.com")
	if r.Flavor == "" {
		r.Flavor = FlavorS3
		if strings.HasSuffix(r.host, ".aliyuncs.com") {
			r.Flavor = FlavorOSS
		}
	}
	switch r.Flavor {
	case FlavorS3:
	case FlavorOSS:
		if c.PathStyle {
			return r, fmt.Errorf("s3: bucket %q: OSS refuses path-style requests (SecondLevelDomainForbidden); turn path style off", c.Bucket)
		}
		if c.Endpoint == "" {
			return r, fmt.Errorf("s3: bucket %q: the OSS flavour needs an endpoint such as https://s3.oss-cn-hangzhou.aliyuncs.com", c.Bucket)
		}
	default:
		return r, fmt.Errorf("s3: flavor %q unknown: use %q or %q", c.Flavor, FlavorS3, FlavorOSS)
	}
	if r.Region == "" {
		r.Region = "us-east-1"
		if m := ossEndpoint.FindStringSubmatch(r.host); m != nil {
			r.Region = m[1]
		}
	}
	switch r.Checksums {
	case "", ChecksumAuto:
		r.Checksums = ChecksumAuto
		// Off AWS, aws-chunked trailers are where S3-compatible stores break
		// (OSS: InvalidArgument; others: XAmzContentSHA256Mismatch).
		r.required = r.Flavor == FlavorOSS || !r.onAWS
	case ChecksumWhenRequired:
		r.required = true
	case ChecksumWhenSupported:
		if r.Flavor == FlavorOSS {
			return r, fmt.Errorf("s3: bucket %q: checksums %q makes the SDK send aws-chunked bodies, which OSS rejects; use %q", c.Bucket, ChecksumWhenSupported, ChecksumWhenRequired)
		}
	default:
		return r, fmt.Errorf("s3: checksums %q unknown: use %q, %q or %q", c.Checksums, ChecksumAuto, ChecksumWhenRequired, ChecksumWhenSupported)
	}
	if r.PageSize < 0 || r.PageSize > 1000 {
		return r, fmt.Errorf("s3: page size %d out of range 1..1000", r.PageSize)
	}
	if r.PageSize == 0 {
		r.PageSize = 1000
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return r, fmt.Errorf("s3: bucket %q: access key and secret key must be given together", c.Bucket)
	}
	ca := c.CABundle
	if ca == "" {
		ca = os.Getenv("AWS_CA_BUNDLE")
	}
	if ca != "" {
		pool, err := loadCABundle(ca)
		if err != nil {
			return r, err
		}
		r.caPool = pool
	}
	return r, nil
}

func loadCABundle(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("s3: CA bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("s3: CA bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

// staticCredentials returns the provider for explicit or OSS_* environment
// keys, or nil when the AWS default chain should be used.
func (r resolved) staticCredentials() aws.CredentialsProvider {
	if r.AccessKey != "" {
		return credentials.NewStaticCredentialsProvider(r.AccessKey, r.SecretKey, r.SessionToken)
	}
	if r.Credentials != nil {
		return r.Credentials
	}
	if r.Flavor == FlavorOSS {
		id, secret := os.Getenv("OSS_ACCESS_KEY_ID"), os.Getenv("OSS_ACCESS_KEY_SECRET")
		if id != "" && secret != "" {
			return credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("OSS_SESSION_TOKEN"))
		}
	}
	return nil
}

// name is how the backend appears in errors and logs: no secrets.
func (r resolved) name() string {
	where := r.Endpoint
	if where == "" {
		where = "AWS " + r.Region
	}
	return fmt.Sprintf("%s bucket %q at %s", r.Flavor, r.Bucket, where)
}
