package ossproxy

import "bytes"

// OSS writes ETags in upper case; versitygw, like S3, in lower case. The
// proxy upper-cases them on the way to the client and lower-cases the ones
// clients send back on the way upstream (see toUpstream).

// upperETags upper-cases the text of every <ETag> element of an XML
// document in place.
func upperETags(b []byte) []byte { return mapETagElements(b, upperETagText) }

// lowerETags lower-cases the text of every <ETag> element in place.
func lowerETags(b []byte) []byte { return mapETagElements(b, lowerETagText) }

func mapETagElements(b []byte, f func([]byte) []byte) []byte {
	open, end := []byte("<ETag>"), []byte("</ETag>")
	i := 0
	for {
		s := bytes.Index(b[i:], open)
		if s < 0 {
			return b
		}
		s += i + len(open)
		e := bytes.Index(b[s:], end)
		if e < 0 {
			return b
		}
		e += s
		f(b[s:e])
		i = e + len(end)
	}
}

func upperETagText(v []byte) []byte { return mapHexLetters(v, 'a', 'A') }
func lowerETagText(v []byte) []byte { return mapHexLetters(v, 'A', 'a') }

// mapHexLetters moves the hex letters from..from+5 to to..to+5 in place. It
// leaves entity references (&quot; &#34;) alone: "&QUOT;" is not XML.
func mapHexLetters(v []byte, from, to byte) []byte {
	inEntity := false
	for i, c := range v {
		switch {
		case c == '&':
			inEntity = true
		case inEntity:
			inEntity = c != ';'
		case c >= from && c <= from+5:
			v[i] = c - from + to
		}
	}
	return v
}
