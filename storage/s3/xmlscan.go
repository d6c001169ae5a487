package s3

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// scanner walks an XML document's bytes for decodeListPage. It knows
// elements, attributes (skipped), text with the predefined and numeric
// entities, CDATA, comments, processing instructions and a doctype
// (skipped); that is all a ListObjectsV2 body can hold.
type scanner struct {
	b   []byte
	pos int
	// scratch holds the last value that needed decoding; values are
	// copied into strings before the next is read.
	scratch []byte
}

type tagKind uint8

const (
	tagStart tagKind = iota
	tagEnd
)

type tag struct {
	kind  tagKind
	name  []byte // as written, with any namespace prefix
	local []byte // name without the prefix
	empty bool   // <name/>
}

func newTag(kind tagKind, name []byte) tag {
	local := name
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		local = name[i+1:]
	}
	return tag{kind: kind, name: name, local: local}
}

func (s *scanner) fail(format string, args ...any) error {
	return fmt.Errorf("list page: at byte %d of %d: %s", s.pos, len(s.b), fmt.Sprintf(format, args...))
}

// next returns the next start or end tag, skipping text, comments, CDATA,
// processing instructions and declarations.
func (s *scanner) next() (tag, error) {
	for {
		i := bytes.IndexByte(s.b[s.pos:], '<')
		if i < 0 {
			s.pos = len(s.b)
			return tag{}, s.fail("body ends inside the document")
		}
		s.pos += i
		rest := s.b[s.pos:]
		var skipTo string
		switch {
		case len(rest) > 1 && rest[1] == '/':
			return s.endTag()
		case len(rest) > 1 && rest[1] != '!' && rest[1] != '?':
			return s.startTag()
		case bytes.HasPrefix(rest, []byte("<!--")):
			skipTo = "-->"
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			skipTo = "]]>"
		case bytes.HasPrefix(rest, []byte("<?")):
			skipTo = "?>"
		default:
			skipTo = ">"
		}
		j := bytes.Index(rest, []byte(skipTo))
		if j < 0 {
			return tag{}, s.fail("unterminated %q", rest[:min(len(rest), 9)])
		}
		s.pos += j + len(skipTo)
	}
}

func (s *scanner) startTag() (tag, error) {
	start := s.pos + 1
	i := start
	for i < len(s.b) && !isSpace(s.b[i]) && s.b[i] != '>' && s.b[i] != '/' {
		i++
	}
	t := newTag(tagStart, s.b[start:i])
	if len(t.name) == 0 {
		return t, s.fail("element without a name")
	}
	// Attributes are skipped; a quoted value may hold '>'.
	var quote byte
	for ; i < len(s.b); i++ {
		c := s.b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			t.empty = s.b[i-1] == '/'
			s.pos = i + 1
			return t, nil
		}
	}
	return t, s.fail("unterminated start tag <%s", t.name)
}

func (s *scanner) endTag() (tag, error) {
	j := bytes.IndexByte(s.b[s.pos:], '>')
	if j < 0 {
		return tag{}, s.fail("unterminated end tag")
	}
	name := s.b[s.pos+2 : s.pos+j]
	if len(name) > 0 && isSpace(name[len(name)-1]) {
		name = bytes.TrimRight(name, " \t\r\n")
	}
	s.pos += j + 1
	return newTag(tagEnd, name), nil
}

// child returns the next child element of parent, or parent's end tag.
// Text between children is ignored, as the SDK does.
func (s *scanner) child(parent []byte) (tag, error) {
	t, err := s.next()
	if err != nil {
		return t, fmt.Errorf("inside <%s>: %w", parent, err)
	}
	if t.kind == tagEnd && !bytes.Equal(t.name, parent) {
		return t, s.fail("<%s> closed by </%s>", parent, t.name)
	}
	return t, nil
}

// value reads the text of the element opened by t, up to and including its
// end tag: character data with entities decoded, or a single CDATA section.
// The result shares the body's bytes or the scratch buffer: it is valid
// until the next call.
func (s *scanner) value(t tag) ([]byte, error) {
	if t.empty {
		return []byte{}, nil
	}
	i := bytes.IndexByte(s.b[s.pos:], '<')
	if i < 0 {
		s.pos = len(s.b)
		return nil, s.fail("body ends inside <%s>", t.name)
	}
	raw := s.b[s.pos : s.pos+i]
	s.pos += i
	var v []byte
	if i == 0 && bytes.HasPrefix(s.b[s.pos:], []byte("<![CDATA[")) {
		j := bytes.Index(s.b[s.pos:], []byte("]]>"))
		if j < 0 {
			return nil, s.fail("unterminated CDATA in <%s>", t.name)
		}
		v = s.b[s.pos+9 : s.pos+j]
		s.pos += j + 3
	} else {
		var err error
		if v, err = s.unescape(raw); err != nil {
			return nil, err
		}
	}
	end, err := s.next()
	if err != nil {
		return nil, err
	}
	if end.kind != tagEnd {
		return nil, s.fail("element <%s> inside <%s>, which holds text", end.name, t.name)
	}
	if !bytes.Equal(end.name, t.name) {
		return nil, s.fail("<%s> closed by </%s>", t.name, end.name)
	}
	return v, nil
}

// skip passes over the element opened by t and everything in it, checking
// that what it opens it closes.
func (s *scanner) skip(t tag) error {
	if t.empty {
		return nil
	}
	var names [8][]byte // OSS adds an unknown <Type> to every object: no allocation for it
	open := append(names[:0], t.name)
	for len(open) > 0 {
		n, err := s.next()
		if err != nil {
			return fmt.Errorf("inside <%s>: %w", t.name, err)
		}
		switch {
		case n.kind == tagStart && !n.empty:
			open = append(open, n.name)
		case n.kind == tagEnd:
			if top := open[len(open)-1]; !bytes.Equal(top, n.name) {
				return s.fail("<%s> closed by </%s>", top, n.name)
			}
			open = open[:len(open)-1]
		}
	}
	return nil
}

// unescape decodes entities and, as XML requires (and encoding/xml does),
// turns \r\n and a lone \r into \n.
func (s *scanner) unescape(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw, nil
	}
	out := s.scratch[:0]
	defer func() { s.scratch = out }()
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case '\r':
			out = append(out, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case '&':
			semi := bytes.IndexByte(raw[i:], ';')
			if semi < 0 {
				return nil, s.fail("unterminated entity %q", raw[i:min(len(raw), i+12)])
			}
			ent := raw[i+1 : i+semi]
			r, ok := entity(ent)
			if !ok {
				return nil, s.fail("unknown or invalid entity &%s;", ent)
			}
			out = utf8.AppendRune(out, r)
			i += semi + 1
		default:
			out = append(out, c)
			i++
		}
	}
	return out, nil
}

func entity(ent []byte) (rune, bool) {
	switch string(ent) {
	case "quot":
		return '"', true
	case "amp":
		return '&', true
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "apos":
		return '\'', true
	}
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	num, base := ent[1:], 10
	if num[0] == 'x' {
		num, base = num[1:], 16
	}
	n, err := strconv.ParseUint(string(num), base, 32)
	if err != nil || !isXMLChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// isXMLChar is XML 1.0's Char production, which encoding/xml enforces on
// character references too.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameIs matches an element's local name the way the SDK does:
// case-insensitively (ASCII: every S3 element name is).
func nameIs(name []byte, want string) bool {
	if len(name) != len(want) {
		return false
	}
	for i := range len(name) {
		a, b := name[i], want[i]
		if a != b && a|0x20 != b|0x20 {
			return false
		}
	}
	return true
}
