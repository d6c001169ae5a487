package httplist

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// ParseHeaders reads srcHeaders: "Name: value; Name2: value2". A ';'
// starts a new header only when a header name and ':' follow it, so
// values keep their commas and their own semicolons
// ("Cookie: a=1; b=2; X-Token: t" is a Cookie of "a=1; b=2" and an
// X-Token). Values are trimmed. Headers ferry sets itself (Host, Range,
// Accept-Encoding, Content-Length, Connection, Transfer-Encoding) are
// refused: setting them would break the reads. Errors quote names, never
// values (a header may carry a token).
func ParseHeaders(s string) (http.Header, error) {
	h := http.Header{}
	s = strings.TrimSpace(s)
	if s == "" {
		return h, nil
	}
	starts := headerStart.FindAllStringIndex(";"+s, -1)
	if len(starts) == 0 || starts[0][0] != 0 {
		return nil, fmt.Errorf("does not start with a header name and ':': write Name: value; Name2: value2")
	}
	in := ";" + s
	for i, st := range starts {
		end := len(in)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		name, value, _ := strings.Cut(in[st[0]+1:end], ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if refusedHeaders[http.CanonicalHeaderKey(name)] {
			return nil, fmt.Errorf("header %q is set by ferry itself and cannot be given", name)
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("header %q: the value holds a line break", name)
		}
		h.Add(name, value)
	}
	// Anything before the first header would have been refused above;
	// a value that is empty after a name is allowed (an empty Referer).
	return h, nil
}

// headerStart matches ';' (the one prepended to the whole string, or a
// separator) followed by an RFC 9110 token and ':'.
var headerStart = regexp.MustCompile(`;\s*[!#$%&'*+\-.^_` + "`" + `|~0-9A-Za-z]+\s*:`)

var refusedHeaders = map[string]bool{
	"Host": true, "Range": true, "Accept-Encoding": true, "Content-Length": true,
	"Connection": true, "Transfer-Encoding": true,
}
