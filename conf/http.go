package conf

import (
	"net/http"
	"strings"

	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/httplist"
)

// httpKeys are the keys of an HTTP URL-list source: OssImport's three
// and ferry's request headers and signing bucket. In a job of another
// source type they are noted, never refused (compat).
var httpKeys = []string{"httpListFilePath", "httpPrefixColumn", "relativePathColumn",
	"srcReferer", "srcUserAgent", "srcHeaders", "srcSignBucket"}

// httpSource reads srcType=http. The list path is resolved like a local
// directory (relative to the config file) and must be readable on the
// master and on every worker at that path: workers find each key's URL in
// it. Its existence is checked when the job starts (storage.Checker), not
// here, so a config can be checked on a machine without the list.
func (r *reader) httpSource() backends.Spec {
	s := backends.Spec{Type: backends.HTTP}
	v, ok := r.value("httpListFilePath")
	switch {
	case !ok || v == httpListStub:
		r.fail("httpListFilePath", ErrRequired, "required for srcType=http: the URL list file, e.g. /data/urls.list")
	case strings.HasPrefix(v, "~"):
		r.fail("httpListFilePath", ErrInvalid, "%q: '~' is not expanded; write the full path", v)
	case strings.Contains(v, "://"):
		r.fail("httpListFilePath", ErrInvalid, "a URL: give the path of the list file (its lines hold the URLs)")
	default:
		s.ListFile = r.resolve(v)
	}
	s.PrefixColumn = r.integer("httpPrefixColumn", 1)
	s.RelativeColumn = r.integer("relativePathColumn", 1)
	if s.PrefixColumn == s.RelativeColumn && s.PrefixColumn > 0 {
		r.fail("relativePathColumn", ErrInvalid, "the same column as httpPrefixColumn (%d): the URL prefix and the relative path are different columns", s.PrefixColumn)
	}
	s.Header = r.headers()
	s.AccessKey, s.SecretKey, s.SessionToken = r.credentials("src", backends.HTTP)
	s.SignBucket, _ = r.value("srcSignBucket")
	if s.SignBucket != "" && s.AccessKey == "" {
		r.fail("srcSignBucket", ErrInvalid, "set, but srcAccessKey and srcSecretKey are empty: it names the bucket signed requests are for")
	}
	if v, ok := r.value("srcCABundle"); ok {
		s.CABundle = r.resolve(v)
	}
	// The URLs come from the list: the object-store keys of the source
	// would do nothing.
	for _, k := range []string{"srcDomain", "srcBucket", "srcPrefix", "srcRegion", "srcPathStyle", "srcChecksums", "srcListPageSize"} {
		if v, ok := r.value(k); ok && v != "false" {
			r.note(k, "%s is ignored: srcType=http reads the URLs of httpListFilePath", k)
		}
	}
	return s
}

// headers reads srcReferer, srcUserAgent and srcHeaders (syntax in
// httplist.ParseHeaders). A header given twice is an error: which one
// should win is the operator's call.
func (r *reader) headers() http.Header {
	raw, _ := r.value("srcHeaders")
	h, err := httplist.ParseHeaders(raw)
	if err != nil {
		r.fail("srcHeaders", ErrInvalid, "%v (syntax: Name: value; Name2: value2)", err)
		h = http.Header{}
	}
	for key, name := range map[string]string{"srcReferer": "Referer", "srcUserAgent": "User-Agent"} {
		v, ok := r.value(key)
		if !ok {
			continue
		}
		if strings.ContainsAny(v, "\r\n") {
			r.fail(key, ErrInvalid, "holds a line break")
			continue
		}
		if _, dup := h[name]; dup {
			r.fail(key, ErrInvalid, "%s is also set in srcHeaders: set it once", name)
			continue
		}
		h.Set(name, v)
	}
	if len(h) == 0 {
		return nil
	}
	return h
}
