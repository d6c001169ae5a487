package master

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Filter decides which listed objects belong to the job: those modified in
// [Since, Until) (a zero bound is open), matching some Include pattern (or
// all when there is none) and no Exclude pattern. Patterns apply to the key
// relative to the source prefix: "*" and "?" stay within one path segment,
// "**" crosses segments.
type Filter struct {
	Since, Until     time.Time
	include, exclude []*regexp.Regexp
}

// NewFilter compiles the patterns; a bad pattern is an error naming it.
func NewFilter(since, until time.Time, include, exclude []string) (*Filter, error) {
	f := &Filter{Since: since, Until: until}
	var err error
	if f.include, err = compileGlobs("include", include); err != nil {
		return nil, err
	}
	if f.exclude, err = compileGlobs("exclude", exclude); err != nil {
		return nil, err
	}
	return f, nil
}

// Match reports whether an object with relative key rel and mtime belongs.
func (f *Filter) Match(rel string, mtime time.Time) bool {
	return f.inWindow(mtime) && f.matchKey(rel)
}

// Early reports whether the object is left out only for being modified
// before Since: its key is in scope. The scanner takes such an object
// after all when the manifest shows it was rewritten in place.
func (f *Filter) Early(rel string, mtime time.Time) bool {
	return !f.Since.IsZero() && !mtime.IsZero() && mtime.Before(f.Since) && f.matchKey(rel)
}

// inWindow: an unknown mtime (zero) is inside every window. A source that
// lists without a time (an HTTP origin whose HEAD failed) gets its object
// taken, and its copy fails saying why; dropped here, it would vanish
// from the job without a word.
func (f *Filter) inWindow(mtime time.Time) bool {
	if mtime.IsZero() {
		return true
	}
	if !f.Since.IsZero() && mtime.Before(f.Since) {
		return false
	}
	return f.Until.IsZero() || mtime.Before(f.Until)
}

func (f *Filter) matchKey(rel string) bool {
	if len(f.include) > 0 && !anyMatch(f.include, rel) {
		return false
	}
	return !anyMatch(f.exclude, rel)
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func compileGlobs(what string, globs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, g := range globs {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		re, err := globToRegexp(g)
		if err != nil {
			return nil, fmt.Errorf("%s pattern %q: %w", what, g, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func globToRegexp(g string) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++ // "**/" also matches zero segments
					sb.WriteString("(?:.*/)?")
				} else {
					sb.WriteString(".*")
				}
			} else {
				sb.WriteString("[^/]*")
			}
		case '?':
			sb.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed '['")
			}
			class := g[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			sb.WriteString("[" + class + "]")
			i += j
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	return regexp.Compile(sb.String())
}
