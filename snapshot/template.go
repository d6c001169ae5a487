package snapshot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ManifestSuffix ends the key of every snapshot manifest.
const ManifestSuffix = ".ferry-manifest"

// ManifestKey is the key of the manifest of the snapshot under prefix. It is
// a sibling of the prefix ("backups/2026-01-02/" -> "backups/2026-01-02" +
// ManifestSuffix), not a key inside it, so no source key copied into the
// snapshot can ever collide with it, and listing the snapshot's parent
// shows both the snapshots and their manifests.
func ManifestKey(prefix string) string {
	return strings.TrimSuffix(prefix, "/") + ManifestSuffix
}

// PrefixOfManifest is the inverse of ManifestKey: the snapshot prefix whose
// manifest key is key, or false when key is not a manifest key.
func PrefixOfManifest(key string) (string, bool) {
	base, ok := strings.CutSuffix(key, ManifestSuffix)
	if !ok || base == "" || strings.HasSuffix(base, "/") {
		return "", false
	}
	return base + "/", true
}

// HasTemplate reports whether s contains a placeholder ("{" of any kind).
// conf uses it to refuse a templated destPrefix on a job that is not a
// snapshot backup: the braces would otherwise end up literally in keys.
func HasTemplate(s string) bool { return strings.Contains(s, "{") }

// segment is one piece of a template: literal text, a time layout or the
// pass number.
type segment struct {
	kind   segKind
	text   string // literal text, or the time layout
	source string // as written, for messages
}

type segKind int

const (
	segLiteral segKind = iota
	segTime
	segPass
)

// Template is a parsed destPrefix of a snapshot job, e.g.
// "backups/{time:2006-01-02T15-04-05}/". The zero Template is not valid;
// get one from ParseTemplate.
type Template struct {
	raw  string
	segs []segment
}

// ParseTemplate parses a snapshot destPrefix. The rules, each of which
// keeps one snapshot from overwriting or hiding another:
//
//   - placeholders are {time:LAYOUT} (a Go time layout, e.g.
//     2006-01-02T15-04-05) and {pass}; at least one is required, or every
//     run would write the same prefix;
//   - a layout must contain a time element (a layout without one formats
//     to the same text every run) and must not contain "/" or braces: each
//     placeholder resolves within one path segment, so that Match can
//     split a prefix back into its parts;
//   - two placeholders must be separated by literal text, so that a prefix
//     can be split back into its parts (Match);
//   - the template ends with "/": a snapshot is a folder;
//   - literal text must not contain ManifestSuffix, so that no snapshot
//     prefix looks like a manifest key.
func ParseTemplate(s string) (Template, error) {
	t := Template{raw: s}
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if close := strings.IndexByte(rest, '}'); close >= 0 && (open < 0 || close < open) {
			return Template{}, fmt.Errorf("destPrefix template %q: %q without an opening \"{\"; placeholders are {time:LAYOUT} and {pass}", s, "}")
		}
		if open < 0 {
			t.segs = append(t.segs, segment{kind: segLiteral, text: rest, source: rest})
			break
		}
		if open > 0 {
			t.segs = append(t.segs, segment{kind: segLiteral, text: rest[:open], source: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return Template{}, fmt.Errorf("destPrefix template %q: %q is not closed; write {time:LAYOUT} or {pass}", s, rest[open:])
		}
		ph := rest[open : open+end+1]
		seg, err := parsePlaceholder(ph)
		if err != nil {
			return Template{}, fmt.Errorf("destPrefix template %q: %w", s, err)
		}
		if n := len(t.segs); n > 0 && t.segs[n-1].kind != segLiteral {
			return Template{}, fmt.Errorf("destPrefix template %q: %s directly follows %s; separate placeholders with text such as \"-\" so a prefix can be read back", s, ph, t.segs[n-1].source)
		}
		t.segs = append(t.segs, seg)
		rest = rest[open+end+1:]
	}
	placeholders := 0
	for _, seg := range t.segs {
		switch {
		case seg.kind != segLiteral:
			placeholders++
		case strings.Contains(seg.text, ManifestSuffix):
			return Template{}, fmt.Errorf("destPrefix template %q: the text %q contains %q, which ends manifest keys; choose another name", s, seg.text, ManifestSuffix)
		}
	}
	if placeholders == 0 {
		return Template{}, fmt.Errorf("destPrefix template %q has no {time:LAYOUT} or {pass}: every run would write the same prefix; e.g. %q", s, strings.TrimSuffix(s, "/")+"/{time:2006-01-02T15-04-05}/")
	}
	if !strings.HasSuffix(s, "/") {
		return Template{}, fmt.Errorf("destPrefix template %q must end with \"/\" (a snapshot is a folder); e.g. %q", s, s+"/")
	}
	return t, nil
}

// parsePlaceholder parses "{pass}" or "{time:LAYOUT}".
func parsePlaceholder(ph string) (segment, error) {
	inner := ph[1 : len(ph)-1]
	if inner == "pass" {
		return segment{kind: segPass, source: ph}, nil
	}
	layout, ok := strings.CutPrefix(inner, "time:")
	if !ok {
		if strings.Contains(inner, "{") {
			return segment{}, fmt.Errorf("%q: placeholders cannot nest; write {time:LAYOUT} or {pass}", ph)
		}
		return segment{}, fmt.Errorf("unknown placeholder %s; placeholders are {time:LAYOUT} and {pass}", ph)
	}
	switch {
	case layout == "":
		return segment{}, fmt.Errorf("%s has an empty layout; write a Go time layout such as {time:2006-01-02T15-04-05}", ph)
	case strings.ContainsAny(layout, "/{"):
		return segment{}, fmt.Errorf("%s: the layout must not contain \"/\" or \"{\" (a snapshot is one folder under its parent); e.g. {time:2006-01-02T15-04-05}", ph)
	}
	// A layout with no time element formats to itself for every time.
	a := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC).Format(layout)
	b := time.Date(2012, 11, 22, 16, 17, 18, 19, time.UTC).Format(layout)
	if a == b {
		return segment{}, fmt.Errorf("%s: layout %q has no time element (Go layouts use the reference time 2006-01-02 15:04:05), so every run would get the same prefix", ph, layout)
	}
	return segment{kind: segTime, text: layout, source: ph}, nil
}

// String is the template as written.
func (t Template) String() string { return t.raw }

// Resolve is the prefix of the snapshot taken at at (formatted in at's
// location: the caller passes the time in the schedule's zone) by pass.
func (t Template) Resolve(at time.Time, pass uint64) string {
	var sb strings.Builder
	for _, seg := range t.segs {
		switch seg.kind {
		case segLiteral:
			sb.WriteString(seg.text)
		case segTime:
			sb.WriteString(at.Format(seg.text))
		case segPass:
			sb.WriteString(strconv.FormatUint(pass, 10))
		}
	}
	return sb.String()
}

// Parent is the literal text before the first placeholder: every snapshot
// of the template has a key starting with it, so it is the prefix to list
// to find them. It need not end in "/" ("backups/snap-" for
// "backups/snap-{pass}/").
func (t Template) Parent() string {
	if len(t.segs) > 0 && t.segs[0].kind == segLiteral {
		return t.segs[0].text
	}
	return ""
}

// Match reports whether prefix could have been produced by Resolve: the
// literal parts match exactly, every {pass} is a decimal number and every
// {time:LAYOUT} part parses with its layout. Used to pick a job's snapshots
// (e.g. from the manifest keys under Parent, via PrefixOfManifest) out of a
// destination listing that may hold other things.
func (t Template) Match(prefix string) bool {
	if len(t.segs) == 0 {
		return false
	}
	return matchSegs(t.segs, prefix)
}

// matchSegs matches s against segs. A placeholder's text ends at some
// occurrence of the literal after it; every occurrence is tried, since a
// layout's output may contain that literal ("2006-01-02" then "-").
func matchSegs(segs []segment, s string) bool {
	if len(segs) == 0 {
		return s == ""
	}
	seg := segs[0]
	if seg.kind == segLiteral {
		rest, ok := strings.CutPrefix(s, seg.text)
		return ok && matchSegs(segs[1:], rest)
	}
	// ParseTemplate guarantees a literal after every placeholder (the
	// template ends with "/").
	next := segs[1].text
	for i := 0; i+len(next) <= len(s); i++ {
		if !strings.HasPrefix(s[i:], next) {
			continue
		}
		if matchPart(seg, s[:i]) && matchSegs(segs[1:], s[i:]) {
			return true
		}
	}
	return false
}

func matchPart(seg segment, part string) bool {
	if part == "" || strings.Contains(part, "/") {
		return false
	}
	if seg.kind == segPass {
		_, err := strconv.ParseUint(part, 10, 64)
		return err == nil
	}
	_, err := time.Parse(seg.text, part)
	return err == nil
}
