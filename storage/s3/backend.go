// Package s3 is the storage backend for AWS S3, S3-compatible stores and
// Alibaba OSS through its S3-compatible API (the "OSS flavour"), built on
// aws-sdk-go-v2.
//
// The backend does not retry: the SDK retryer is off and storage/retry wraps
// the backend instead, so retries are counted, logged and bounded in one
// place for every backend (and a mid-body reset can resume a read, which the
// SDK cannot do).
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-migrate/ferry/storage"
)

var (
	_ storage.Backend          = (*Backend)(nil)
	_ storage.Multipart        = (*Backend)(nil)
	_ storage.Checker          = (*Backend)(nil)
	_ storage.LevelLister      = (*Backend)(nil)
	_ storage.EvidenceReporter = (*Backend)(nil)
)

// TransportBuffer is the size of each connection's read and write buffers.
// net/http's 4 KiB default splits every body into 4 KiB TLS writes and
// reads; a copier moves whole objects. (The benchmarks' raw pipe uses it
// too, to stay the limit ferry is held to.)
const TransportBuffer = 64 << 10

// Backend is one bucket.
type Backend struct {
	cfg    resolved
	name   string
	client *awss3.Client
	// direct sends whole GETs and single PUTs without the SDK's operation
	// stack (direct.go); nil when the endpoint needs more than SigV4.
	direct *direct
	// ignoresChecksums is set once a write that passed a checksum came
	// back without it (see noteEcho).
	ignoresChecksums atomic.Bool
	// copyLimit, when positive, replaces the store's single-copy limit
	// (see singleCopyLimit): tests lower it to reach the multipart copy
	// with small objects.
	copyLimit int64
}

// New builds a backend. It does not contact the server; call Check for that.
func New(ctx context.Context, c Config) (*Backend, error) {
	r, err := c.resolve()
	if err != nil {
		return nil, err
	}
	creds := r.staticCredentials()
	if creds == nil {
		// The AWS chain: environment, shared config/profiles, SSO, instance
		// roles. Only credentials are taken from it; the HTTP client is ours
		// (with AWS_CA_BUNDLE set, LoadDefaultConfig and a custom client clash).
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(r.Region))
		if err != nil {
			return nil, fmt.Errorf("s3: bucket %q: loading AWS credentials: %w", r.Bucket, err)
		}
		creds = awsCfg.Credentials
	}
	if _, cached := creds.(*aws.CredentialsCache); !cached {
		// A cache is kept as given: its owner may invalidate it (keys
		// replaced while the job runs) or have tuned its expiry window.
		creds = aws.NewCredentialsCache(creds)
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if r.caPool != nil {
			tr.TLSClientConfig.RootCAs = r.caPool
		}
		if r.DialContext != nil {
			tr.DialContext = r.DialContext
		} else {
			tr.DialContext = storage.DialLoopbackNames
		}
		tr.MaxIdleConnsPerHost = 256
		tr.WriteBufferSize, tr.ReadBufferSize = TransportBuffer, TransportBuffer
		// A server that accepts the connection but never answers must not
		// hang a worker forever; bodies may take long, headers may not.
		tr.ResponseHeaderTimeout = 2 * time.Minute
	})
	opts := awss3.Options{
		Region:       r.Region,
		Credentials:  creds,
		HTTPClient:   hc,
		UsePathStyle: r.PathStyle,
		Retryer:      aws.NopRetryer{},
	}
	if r.Endpoint != "" {
		opts.BaseEndpoint = aws.String(strings.TrimSuffix(r.Endpoint, "/"))
	}
	// Never the SDK's validation of GET bodies: the copier already proves
	// what it read, by handing the stored checksum to a destination that
	// validates it or by computing it itself (worker/plan.go), so the SDK's
	// table-driven CRC64NVME would hash every byte a second time. Open asks
	// for the checksum itself (askChecksum). For OSS this is also half of
	// keeping aws-chunked away (DESIGN §5).
	opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	if r.required {
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	} else {
		// Explicit: a bare s3.New leaves this unset (no checksums at all);
		// only LoadDefaultConfig would pick WhenSupported for us.
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	}
	return &Backend{cfg: r, name: r.name(), client: awss3.New(opts), direct: newDirect(ctx, opts, r.Bucket)}, nil
}

// String names the bucket and endpoint; never credentials.
func (b *Backend) String() string { return b.name }

// Flavor reports the provider flavour in effect (after detection).
func (b *Backend) Flavor() Flavor { return b.cfg.Flavor }

// Check lists one key: it proves the endpoint answers, the credentials are
// accepted and the bucket exists (HEAD answers carry no error code, so a
// HeadBucket could not tell bad credentials from a denied bucket).
func (b *Backend) Check(ctx context.Context) error {
	_, err := b.listPage(ctx, &awss3.ListObjectsV2Input{
		Bucket: aws.String(b.cfg.Bucket), MaxKeys: aws.Int32(1)})
	if err != nil && errors.Is(translate(err), storage.ErrNotFound) {
		// A 404 without NoSuchBucket: the bucket is missing or the endpoint
		// is not an S3 service at all. Either way the job cannot start.
		return &storage.Error{Backend: b.name, Op: "check", Err: fmt.Errorf(
			"%w (or %s is not an S3 endpoint): %w", storage.ErrBucketNotFound, b.cfg.Endpoint, err)}
	}
	return b.wrap("check", "", err)
}

// validKey rejects keys no S3-like store accepts, before a request is made,
// so the error names the key instead of an opaque 400.
func (b *Backend) validKey(op, key string) error {
	var why string
	switch {
	case key == "":
		why = "key is empty"
	case len(key) > storage.MaxKeyLen:
		why = fmt.Sprintf("key is %d bytes, longer than %d", len(key), storage.MaxKeyLen)
	case !utf8.ValidString(key):
		why = "key is not valid UTF-8"
	case b.cfg.Flavor == FlavorOSS && (strings.HasPrefix(key, "/") || strings.HasPrefix(key, `\`)):
		why = `OSS forbids keys starting with "/" or "\"`
	default:
		return nil
	}
	return &storage.Error{Backend: b.name, Op: op, Key: key, Err: fmt.Errorf("%w: %s", storage.ErrInvalidKey, why)}
}

// List pages through ListObjectsV2. Keys are URL-encoded on the wire
// (EncodingType=url) so control characters survive XML, and decoded only if
// the server says it encoded them.
func (b *Backend) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	in := &awss3.ListObjectsV2Input{
		Bucket:       aws.String(b.cfg.Bucket),
		MaxKeys:      aws.Int32(b.cfg.PageSize),
		EncodingType: "url",
	}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	for {
		out, err := b.listPage(ctx, in)
		if err != nil {
			return b.wrap("list", prefix, err)
		}
		for _, o := range out.Contents {
			key, err := decodeKey(aws.ToString(o.Key), string(out.EncodingType))
			if err != nil {
				return b.wrap("list", prefix, err)
			}
			info := storage.ObjectInfo{
				Key:          key,
				Size:         aws.ToInt64(o.Size),
				ModTime:      aws.ToTime(o.LastModified),
				ETag:         storage.TrimETag(aws.ToString(o.ETag)),
				StorageClass: string(o.StorageClass),
			}
			if err := fn(info); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
		in.StartAfter = nil
	}
}

// Stat is HeadObject.
func (b *Backend) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := b.validKey("stat", key); err != nil {
		return storage.ObjectInfo{}, err
	}
	in := &awss3.HeadObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)}
	if b.useChecksums() {
		in.ChecksumMode = types.ChecksumModeEnabled // a HEAD has no body to validate
	}
	out, err := b.client.HeadObject(ctx, in)
	if err != nil {
		return storage.ObjectInfo{}, b.wrap("stat", key, err)
	}
	info := headInfo(key, out)
	if err := readCRC(&info, out.ResultMetadata); err != nil {
		return storage.ObjectInfo{}, b.wrap("stat", key, err)
	}
	return info, nil
}

// Open is a (ranged) GetObject. A zero-length read of an existing object
// still asks the server, so a missing key is reported as such.
func (b *Backend) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	if err := b.validKey("open", key); err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	if offset < 0 {
		return nil, storage.ObjectInfo{}, &storage.Error{Backend: b.name, Op: "open", Key: key,
			Err: fmt.Errorf("%w: negative offset %d", storage.ErrInvalidRange, offset)}
	}
	if length == 0 {
		info, err := b.Stat(ctx, key)
		if err != nil {
			return nil, info, err
		}
		if offset > 0 && offset >= info.Size {
			return nil, info, &storage.Error{Backend: b.name, Op: "open", Key: key,
				Err: fmt.Errorf("%w: offset %d beyond size %d", storage.ErrInvalidRange, offset, info.Size)}
		}
		return io.NopCloser(strings.NewReader("")), info, nil
	}
	in := &awss3.GetObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)}
	switch {
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	var opts []func(*awss3.Options)
	ask := in.Range == nil && b.useChecksums()
	if ask {
		opts = append(opts, askChecksum)
	}
	var out *awss3.GetObjectOutput
	var hdr http.Header
	var err error
	if b.direct != nil {
		out, hdr, err = b.direct.get(ctx, b.client, in, ask, opts)
	} else if out, err = b.client.GetObject(ctx, in, opts...); err == nil {
		hdr = rawHeader(out.ResultMetadata)
	}
	if err != nil {
		return nil, storage.ObjectInfo{}, b.wrap("open", key, err)
	}
	info, err := getInfo(key, out)
	if err == nil {
		err = readCRCHeader(&info, hdr)
	}
	if err != nil {
		out.Body.Close()
		return nil, storage.ObjectInfo{}, b.wrap("open", key, err)
	}
	return &body{rc: out.Body, b: b, key: key}, info, nil
}

// body translates read errors (resets, truncation) into storage errors so
// that storage.Classify sees them with the key attached.
type body struct {
	rc  io.ReadCloser
	b   *Backend
	key string
}

func (r *body) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = r.b.wrap("read", r.key, err)
	}
	return n, err
}

func (r *body) Close() error { return r.rc.Close() }

// Put is a single PutObject of exactly info.Size bytes.
func (b *Backend) Put(ctx context.Context, key string, r io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	if err := b.validKey("put", key); err != nil {
		return storage.ObjectInfo{}, err
	}
	if info.Size < 0 {
		return storage.ObjectInfo{}, &storage.Error{Backend: b.name, Op: "put", Key: key,
			Err: fmt.Errorf("%w: negative size %d", storage.ErrSizeMismatch, info.Size)}
	}
	cond, err := b.writeCondition("put", key, info.Condition)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	in := &awss3.PutObjectInput{
		Bucket:        aws.String(b.cfg.Bucket),
		Key:           aws.String(key),
		Body:          newExactReader(r, info.Size),
		ContentLength: aws.Int64(info.Size),
		IfNoneMatch:   cond.ifNoneMatch,
		IfMatch:       cond.ifMatch,
	}
	applyPutMeta(in, info)
	var passed string
	if info.Checksum != "" && b.passChecksums() {
		passed = info.Checksum
		_, in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME = checksumFields(passed)
	}
	var out *awss3.PutObjectOutput
	var hdr http.Header
	opts := append(cond.opts, unsignedPayload)
	// Without a checksum to pass, a client set to when_supported has the
	// SDK compute one (a CRC32 trailer): that stays the SDK's.
	if b.direct != nil && (b.cfg.required || passed != "") {
		out, hdr, err = b.direct.put(ctx, b.client, in, cond.ossForbid, opts)
	} else if out, err = b.client.PutObject(ctx, in, opts...); err == nil {
		hdr = rawHeader(out.ResultMetadata)
	}
	if err != nil {
		return storage.ObjectInfo{}, b.wrapWrite("put", key, info.Condition, err)
	}
	res := storage.ObjectInfo{Key: key, Size: info.Size, ETag: storage.TrimETag(aws.ToString(out.ETag)),
		Checksum: checksumOf(out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME)}
	b.noteEcho(passed, res.Checksum)
	if err := readCRCHeader(&res, hdr); err != nil {
		return storage.ObjectInfo{}, b.wrap("put", key, err)
	}
	return res, nil
}

// Delete is DeleteObject; S3 already answers 204 for a missing key.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := b.validKey("delete", key); err != nil {
		return err
	}
	_, err := b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(key)})
	if err != nil && errors.Is(translate(err), storage.ErrNotFound) {
		return nil
	}
	return b.wrap("delete", key, err)
}

// ListLevel is ListObjectsV2 with Delimiter "/". S3 returns objects and
// common prefixes in separate lists per page; each page's two lists are
// merged so both callbacks see keys in order.
func (b *Backend) ListLevel(ctx context.Context, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	in := &awss3.ListObjectsV2Input{
		Bucket:       aws.String(b.cfg.Bucket),
		MaxKeys:      aws.Int32(b.cfg.PageSize),
		EncodingType: "url",
		Delimiter:    aws.String("/"),
	}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		out, err := b.listPage(ctx, in)
		if err != nil {
			return b.wrap("list", prefix, err)
		}
		objs, dirs := out.Contents, out.CommonPrefixes
		for len(objs) > 0 || len(dirs) > 0 {
			if len(dirs) == 0 || (len(objs) > 0 && aws.ToString(objs[0].Key) < aws.ToString(dirs[0].Prefix)) {
				o := objs[0]
				objs = objs[1:]
				key, err := decodeKey(aws.ToString(o.Key), string(out.EncodingType))
				if err != nil {
					return b.wrap("list", prefix, err)
				}
				if err := fn(storage.ObjectInfo{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified),
					ETag: storage.TrimETag(aws.ToString(o.ETag)), StorageClass: string(o.StorageClass)}); err != nil {
					return err
				}
				continue
			}
			d, err := decodeKey(aws.ToString(dirs[0].Prefix), string(out.EncodingType))
			dirs = dirs[1:]
			if err != nil {
				return b.wrap("list", prefix, err)
			}
			if err := dirFn(d); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}
