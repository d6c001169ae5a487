package httplist

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/storage"
)

// The list format, as OssImport reads it for srcType=http:
//
//   - one object a line; columns separated by runs of spaces or tabs;
//     columns beyond the two named ones are ignored;
//   - blank lines and lines whose first non-blank character is '#' are
//     skipped;
//   - the URL is the prefix column, then one '/', then the relative path
//     column: "http://h/a/ b/c.jpg", "http://h/a b/c.jpg" and
//     "http://h/a/ /b/c.jpg" all read http://h/a/b/c.jpg;
//   - the key (after destPrefix) is the relative path without leading '/'.
//
// Since whitespace separates columns, the relative path is written as it
// appears in a URL: percent-encoded where needed. The key is its decoded
// form (a%20b.jpg is the object "a b.jpg"; a literal "%20" in a name is
// written %2520), so the destination's URLs mirror the origin's. A '%'
// not followed by two hex digits is kept as a literal '%'. '+' is a plain
// character (this is a path, not a form). '?' starts a query: the query is
// sent (a signed URL's Expires/Signature) but is not part of the key and is
// never shown. '#' is part of the name: a fragment is never sent to a
// server, so a '#' in a list can only be a character of the file name.
// The request path is built again from the key, escaping every byte
// outside RFC 3986's unreserved and sub-delim characters.

// entry is one object of the list.
type entry struct {
	key string
	url string // prefix + "/" + escaped key + optional "?query"
}

// errSkipLine marks lines that hold no object (blank, comment).
var errSkipLine = errors.New("no object on this line")

// parseLine reads one line of the list. It returns errSkipLine for blank
// and comment lines, and an error naming the problem (never the URL) for a
// line that cannot become an object.
func parseLine(line string, prefixCol, relCol int) (entry, error) {
	s := strings.TrimSpace(line)
	if s == "" || s[0] == '#' {
		return entry{}, errSkipLine
	}
	cols := strings.Fields(s)
	if n := max(prefixCol, relCol); len(cols) < n {
		return entry{}, fmt.Errorf("%d column(s), need at least %d", len(cols), n)
	}
	prefix, rel := cols[prefixCol-1], cols[relCol-1]
	base, err := checkPrefix(prefix)
	if err != nil {
		return entry{}, err
	}
	path, query, hasQuery := strings.Cut(strings.TrimLeft(rel, "/"), "?")
	key := decodeKey(path)
	if err := checkKey(key); err != nil {
		return entry{}, err
	}
	u := base + "/" + escapePath(key)
	if hasQuery {
		u += "?" + query
	}
	return entry{key: key, url: u}, nil
}

// checkPrefix validates the prefix column and returns it without trailing
// slashes. Messages name the part that is wrong, never the whole prefix: a
// prefix with user info holds a password.
func checkPrefix(p string) (string, error) {
	u, err := url.Parse(p)
	switch {
	case err != nil:
		return "", errors.New("the prefix column is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("the prefix column's scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return "", errors.New("the prefix column has no host")
	case u.User != nil:
		return "", errors.New("the prefix column holds credentials (user:password@): not accepted, they would be logged")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("the prefix column has a query or fragment: put it after the relative path")
	}
	return strings.TrimRight(p, "/"), nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the relative path is empty", storage.ErrInvalidKey)
	case len(key) > storage.MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, longer than %d", storage.ErrInvalidKey, len(key), storage.MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not UTF-8 once decoded", storage.ErrInvalidKey)
	case strings.ContainsAny(key, "\x00\n\r"):
		// The spool keeps one record a line, key and URL split by NUL.
		return fmt.Errorf("%w: holds a NUL or line break once decoded", storage.ErrInvalidKey)
	}
	return nil
}

// decodeKey decodes %XX escapes; a '%' not followed by two hex digits
// stays as it is.
func decodeKey(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapePath percent-encodes a key for a URL path: unreserved characters,
// sub-delims, ':', '@' and '/' stay; everything else (space, '%', '?',
// '#', non-ASCII bytes) becomes %XX.
func escapePath(key string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if keepInPath(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func keepInPath(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// redact is u without its query: what errors and logs show of a URL.
func redact(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}
