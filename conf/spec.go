package conf

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/creds"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// source builds the source Spec from srcType and the src* keys.
func (r *reader) source() backends.Spec {
	t, ok := r.value("srcType")
	switch {
	case !ok:
		r.fail("srcType", ErrRequired, "required: one of %s", supportedTypes())
		return backends.Spec{}
	case t == "local" || t == "s3" || t == "oss":
		r.noteHDFSKeys()
		return r.side("src", backends.Type(t))
	case t == string(backends.HDFS):
		return r.hdfsSource()
	case t == string(backends.HTTP):
		r.noteHDFSKeys()
		return r.httpSource()
	case ossImportSources[t]:
		r.errs = append(r.errs, &Error{File: r.file, Line: r.entries["srcType"].line, Key: "srcType", Err: unsupportedSource(t)})
	case ossImportSources[strings.ToLower(t)]:
		r.fail("srcType", ErrInvalid, "%q: values are case-sensitive, as in OssImport: did you mean %s?", t, strings.ToLower(t))
	default:
		r.fail("srcType", ErrInvalid, "%q is not a source type: use one of %s", t, supportedTypes())
	}
	return backends.Spec{}
}

// dest builds the destination Spec. OssImport always writes to OSS and
// has no destType; ferry infers it from destDomain (an aliyuncs.com host
// is OSS, any other endpoint S3) and needs it only for AWS or local.
func (r *reader) dest() backends.Spec {
	t, ok := r.value("destType")
	if !ok {
		d, ok := r.value("destDomain")
		if !ok {
			r.fail("destType", ErrRequired, "required when destDomain is empty: oss, s3 (AWS, with destRegion) or local")
			return backends.Spec{}
		}
		t = string(backends.S3)
		if isAliyun(hostOf(d)) {
			t = string(backends.OSS)
		}
	}
	switch backends.Type(t) {
	case backends.Local, backends.S3, backends.OSS:
		return r.side("dest", backends.Type(t))
	case backends.HDFS:
		r.fail("destType", ErrUnsupported, "hdfs is supported as a source only: ferry reads HDFS but does not write it (destinations: %s)", destinationTypes())
		return backends.Spec{}
	case backends.HTTP:
		r.fail("destType", ErrUnsupported, "destType=http: an HTTP URL list is a source only (destinations: %s)", destinationTypes())
		return backends.Spec{}
	}
	r.fail("destType", ErrUnsupported, "destType=%s is not supported (supported: %s)", t, destinationTypes())
	return backends.Spec{}
}

// side reads one side's keys; p is "src" or "dest".
func (r *reader) side(p string, t backends.Type) backends.Spec {
	s := backends.Spec{Type: t}
	if t == backends.Local {
		// OssImport puts a local directory in srcPrefix; ferry does the
		// same for a local destination with destPrefix.
		s.Root = r.localDir(p+"Prefix", p)
		if p == "src" {
			// OssImport's isAllowSymbolicLink (files only) is the same knob.
			s.FollowSymlinks = r.boolean(r.pick("followSymlinks", "isAllowSymbolicLink"))
		}
		for _, k := range []string{"Domain", "Bucket", "Region", "AccessKey", "SecretKey", "SecurityToken", "Credentials", "PathStyle", "CABundle", "Checksums", "ListPageSize"} {
			if v, ok := r.value(p + k); ok && v != "false" {
				r.note(p+k, "%s is ignored: %sType is local", p+k, p)
			}
		}
		return s
	}
	s.Endpoint = r.endpoint(p+"Domain", t)
	s.Bucket = r.bucket(p+"Bucket", p, s.Endpoint)
	s.Prefix = r.prefix(p + "Prefix")
	s.Region = r.region(p+"Region", s.Endpoint)
	s.AccessKey, s.SecretKey, s.SessionToken = r.credentials(p, t)
	s.Credentials = r.provider(p, s)
	s.PathStyle = r.boolean(p + "PathStyle")
	if s.PathStyle && (t == backends.OSS || isAliyun(hostOf(s.Endpoint))) {
		r.fail(p+"PathStyle", ErrInvalid, "OSS refuses path-style requests (SecondLevelDomainForbidden): remove it or set false")
	}
	if v, ok := r.value(p + "CABundle"); ok {
		s.CABundle = r.resolve(v)
	}
	s.ChecksumMode = r.checksums(p+"Checksums", t, s.Endpoint)
	// S3 and OSS cap a listing page at 1000 keys; smaller pages help
	// stores that time out on large ones.
	if n := r.integer(p+"ListPageSize", 1); n > 1000 {
		r.fail(p+"ListPageSize", ErrInvalid, "%d is too large: S3 and OSS list at most 1000 keys a page", n)
	} else {
		s.ListPageSize = int32(n)
	}
	return s
}

// localDir reads a local side's directory. OssImport wants it absolute and
// ending in '/'; ferry also accepts a relative path, resolved against the
// config file's directory, and does not need the '/'.
func (r *reader) localDir(key, p string) string {
	v, ok := r.value(key)
	switch {
	case !ok:
		r.fail(key, ErrRequired, "required for %sType=local: the directory, e.g. /data/export/", p)
	case strings.HasPrefix(v, "~"):
		r.fail(key, ErrInvalid, "%q: '~' is not expanded; write the full path", v)
	case strings.Contains(v, "://"):
		r.fail(key, ErrInvalid, "%q is a URL: for %sType=local give a directory", v, p)
	default:
		return r.resolve(v)
	}
	return ""
}

// drivePath matches a Windows path such as OssImport's own example
// "D:/work/oss/data/": absolute, though not to a Unix filepath.
var drivePath = regexp.MustCompile(`^[A-Za-z]:[/\\]`)

func (r *reader) resolve(p string) string {
	if filepath.IsAbs(p) || drivePath.MatchString(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(r.dir, p)
}

// endpoint reads srcDomain/destDomain. OssImport users write
// "http://oss-cn-hangzhou.aliyuncs.com"; that is kept as is (OSS serves
// its S3-compatible API on the same hosts). Without a scheme, https is
// assumed.
func (r *reader) endpoint(key string, t backends.Type) string {
	v, ok := r.value(key)
	if !ok {
		if t == backends.OSS {
			r.fail(key, ErrRequired, "required for OSS: the region endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com")
		}
		return "" // AWS S3, region from srcRegion/destRegion
	}
	full := v
	if !strings.Contains(v, "://") {
		full = "https://" + v
	}
	u, err := url.Parse(full)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		r.fail(key, ErrInvalid, "not an endpoint URL like https://oss-cn-hangzhou.aliyuncs.com")
	case u.User != nil:
		// Not echoed: the user info is a credential.
		r.fail(key, ErrInvalid, "credentials in the URL are not accepted (they would be logged): use the AccessKey/SecretKey keys or the environment")
	case u.Scheme != "http" && u.Scheme != "https":
		r.fail(key, ErrInvalid, "%q: the scheme must be http or https", v)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		// Not echoed: a query may be a presigned URL's signature.
		r.fail(key, ErrInvalid, "has a query: give only scheme and host, e.g. https://oss-cn-hangzhou.aliyuncs.com")
	case u.Path != "" && u.Path != "/":
		r.fail(key, ErrInvalid, "%q has a path: give only scheme and host (the bucket goes in the Bucket key, the prefix in the Prefix key)", v)
	default:
		return u.Scheme + "://" + u.Host
	}
	return ""
}

func hostOf(domain string) string {
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	u, err := url.Parse(domain)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func isAliyun(host string) bool { return strings.HasSuffix(host, ".aliyuncs.com") }

func (r *reader) bucket(key, p, endpoint string) string {
	v, ok := r.value(key)
	switch {
	case !ok:
		r.fail(key, ErrRequired, "required for %sType=s3 or oss: the bucket name", p)
	case strings.Contains(v, "://"):
		r.fail(key, ErrInvalid, "%q: give the bare bucket name", v)
	case strings.ContainsAny(v, "/ \t"):
		r.fail(key, ErrInvalid, "%q: a bucket name has no '/' or spaces (the prefix goes in %sPrefix)", v, p)
	case endpoint != "" && strings.HasPrefix(hostOf(endpoint), strings.ToLower(v)+"."):
		r.fail(p+"Domain", ErrInvalid, "%q includes the bucket: give the region endpoint without %q", endpoint, v+".")
	}
	return v
}

// prefix reads an object-key prefix. OSS forbids keys starting with '/'
// and on S3 such a prefix would match nothing ferry lists, so it is an
// error rather than something to strip silently.
func (r *reader) prefix(key string) string {
	v, _ := r.value(key)
	if strings.HasPrefix(v, "/") {
		r.fail(key, ErrInvalid, "%q starts with '/': object keys do not; write %q", v, strings.TrimLeft(v, "/"))
	}
	return v
}

// awsHost matches AWS S3 endpoints that name a region:
// s3.eu-west-1.amazonaws.com, s3-eu-west-1..., s3.dualstack.eu-west-1...,
// and the China partition (.amazonaws.com.cn).
var awsHost = regexp.MustCompile(`^s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$`)

// region reads srcRegion/destRegion. OssImport has no region key: its
// users give only the domain, so for AWS endpoints the region is taken
// from the host (SigV4 signs with it; us-east-1 would be refused by
// other regions). The s3 backend derives it from OSS hosts itself.
func (r *reader) region(key, endpoint string) string {
	if v, ok := r.value(key); ok {
		return v
	}
	if m := awsHost.FindStringSubmatch(hostOf(endpoint)); m != nil {
		return m[1]
	}
	return ""
}

// credentials reads the key pair and token. Both empty means "from the
// environment" and leaves the Spec empty: the s3 backend reads
// OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET / OSS_SESSION_TOKEN for OSS,
// then the AWS chain. Half a pair is an error, never a silent fallback.
func (r *reader) credentials(p string, t backends.Type) (ak, sk, token string) {
	ak, akSet := r.value(p + "AccessKey")
	sk, skSet := r.value(p + "SecretKey")
	token, tokenSet := r.value(p + "SecurityToken")
	env := "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
	switch t {
	case backends.OSS:
		env = "OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET"
	case backends.HTTP:
		// Signed requests only with keys given here; none means unsigned.
		env = "none: requests are then unsigned"
	}
	switch {
	case akSet && !skSet:
		r.fail(p+"AccessKey", ErrInvalid, "set, but %sSecretKey is empty: set both, or leave both empty to use the environment (%s)", p, env)
	case skSet && !akSet:
		r.fail(p+"SecretKey", ErrInvalid, "set, but %sAccessKey is empty: set both, or leave both empty to use the environment (%s)", p, env)
	case tokenSet && !akSet:
		r.fail(p+"SecurityToken", ErrInvalid, "set, but %sAccessKey and %sSecretKey are empty: temporary (STS) credentials are all three", p, p)
	}
	return ak, sk, token
}

// provider reads srcCredentials/destCredentials: where the side's
// credentials come from (package creds). Static keys go with static (the
// default when they are set) and assume-role (the identity that assumes
// the role); every other kind refuses them, so a config never says two
// things. Values are not echoed: a command line may be private.
func (r *reader) provider(p string, s backends.Spec) creds.Spec {
	key := p + "Credentials"
	v, ok := r.value(key)
	if !ok {
		return creds.Spec{}
	}
	c, err := creds.Parse(v)
	if err != nil {
		r.fail(key, ErrInvalid, "%v", err)
		return creds.Spec{}
	}
	switch hasKeys := s.AccessKey != ""; {
	case c.NeedsKeys() && !hasKeys:
		r.fail(key, ErrInvalid, "%s needs %sAccessKey and %sSecretKey", c.Kind, p, p)
	case !c.NeedsKeys() && hasKeys:
		r.fail(key, ErrInvalid, "%s takes no keys, but %sAccessKey is set: remove the keys, or use static", c.Kind, p)
	case c.Kind == creds.KindFile:
		c.Arg = r.resolve(c.Arg)
	}
	return c
}

func (r *reader) checksums(key string, t backends.Type, endpoint string) string {
	v, ok := r.value(key)
	if !ok {
		return ""
	}
	switch v {
	case s3.ChecksumAuto, s3.ChecksumWhenRequired:
	case s3.ChecksumWhenSupported:
		if t == backends.OSS || isAliyun(hostOf(endpoint)) {
			r.fail(key, ErrInvalid, "when_supported makes the SDK send aws-chunked bodies, which OSS rejects: use auto or when_required")
		}
	default:
		r.fail(key, ErrInvalid, "%q: use auto, when_required or when_supported", v)
	}
	return v
}

// overlap refuses a destination inside the source or the reverse: each
// incremental pass would copy its own output again.
func (r *reader) overlap(j *Job) {
	s, d := j.Src, j.Dest
	if s.Type == "" || d.Type == "" {
		return
	}
	var a, b string
	switch {
	case s.Type == backends.Local && d.Type == backends.Local && s.Root != "" && d.Root != "":
		a, b = filepath.ToSlash(s.Root)+"/", filepath.ToSlash(d.Root)+"/"
	case s.Type != backends.Local && d.Type != backends.Local && s.Bucket != "" && s.Bucket == d.Bucket &&
		sameService(s.Endpoint, d.Endpoint):
		a, b = s.Prefix, d.Prefix
	default:
		return
	}
	if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
		r.fail("destPrefix", ErrInvalid, "the destination overlaps the source (%s and %s): choose prefixes where neither contains the other", s, d)
	}
}

// sameService: the -internal OSS endpoint reaches the same buckets as the
// public one.
func sameService(a, b string) bool {
	norm := func(e string) string { return strings.Replace(hostOf(e), "-internal.", ".", 1) }
	return norm(a) == norm(b)
}
