package conf

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/storage/backends"
)

// encodeHTTP writes an HTTP URL-list source's keys. Referer and
// User-Agent go back to their own keys; the other headers to srcHeaders,
// in name order, so parsing the text again gives the same Spec.
func encodeHTTP(b *strings.Builder, kv func(k, v string), s backends.Spec) {
	kv("httpListFilePath", s.ListFile)
	kv("httpPrefixColumn", strconv.Itoa(s.PrefixColumn))
	kv("relativePathColumn", strconv.Itoa(s.RelativeColumn))
	kv("srcReferer", s.Header.Get("Referer"))
	kv("srcUserAgent", s.Header.Get("User-Agent"))
	var names []string
	for k := range s.Header {
		if k != "Referer" && k != "User-Agent" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var hs []string
	for _, k := range names {
		for _, v := range s.Header[k] {
			hs = append(hs, k+": "+v)
		}
	}
	kv("srcHeaders", strings.Join(hs, "; "))
	if s.AccessKey == "" {
		b.WriteString("# src requests: unsigned\n")
	}
	kv("srcAccessKey", s.AccessKey)
	kv("srcSecretKey", s.SecretKey)
	kv("srcSecurityToken", s.SessionToken)
	kv("srcSignBucket", s.SignBucket)
	kv("srcCABundle", s.CABundle)
}

// maskHeaders masks the values of srcHeaders (cookies, tokens); Referer
// and User-Agent, which are not secret and which an operator checks, stay.
func maskHeaders(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := http.Header{}
	for k, vs := range h {
		for _, v := range vs {
			if k != "Referer" && k != "User-Agent" {
				v = maskSecret(v)
			}
			out.Add(k, v)
		}
	}
	return out
}
