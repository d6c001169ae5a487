package observe

import (
	"strings"
	"unicode"
)

// promqlWords are the PromQL words that look like metric names but are
// not: aggregation operators (which may be followed by a by/without
// clause rather than "(") and keywords. Functions need no list: an
// identifier followed by "(" is a call.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"inf": true, "nan": true,
}

// groupingWords are followed by a parenthesised list of label names.
var groupingWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true}

// MetricNames returns the metric names a PromQL expression selects, in
// order of appearance. It is a small tokenizer, enough for dashboards:
// string literals, label matchers ({...}), ranges ([...]), label lists
// after by/without/on/ignoring/group_*, function calls, keywords and
// numbers are skipped; every other identifier is a metric name.
func MetricNames(expr string) []string {
	var names []string
	rs := []rune(expr)
	skipSpace := func(i int) int {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
		return i
	}
	// skipTo skips past the closing rune, over string literals.
	skipTo := func(i int, closing rune) int {
		for i < len(rs) && rs[i] != closing {
			if rs[i] == '"' || rs[i] == '\'' || rs[i] == '`' {
				i = skipString(rs, i)
				continue
			}
			i++
		}
		return i + 1
	}
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(rs, i)
		case c == '{':
			i = skipTo(i+1, '}')
		case c == '[':
			i = skipTo(i+1, ']')
		case unicode.IsDigit(c) || c == '.':
			for i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]) || rs[i] == '.') {
				i++ // 0.95, 1e3, 5m
			}
		case isIdentStart(c):
			j := i
			for j < len(rs) && isIdentPart(rs[j]) {
				j++
			}
			word := string(rs[i:j])
			next := skipSpace(j)
			switch {
			case groupingWords[strings.ToLower(word)]:
				if next < len(rs) && rs[next] == '(' {
					j = skipTo(next+1, ')')
				}
			case promqlWords[strings.ToLower(word)]:
			case next < len(rs) && rs[next] == '(':
				// a function call
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

func skipString(rs []rune, i int) int {
	q := rs[i]
	for i++; i < len(rs) && rs[i] != q; i++ {
		if rs[i] == '\\' && q != '`' {
			i++
		}
	}
	return i + 1
}

func isIdentStart(c rune) bool { return c == '_' || c == ':' || unicode.IsLetter(c) }
func isIdentPart(c rune) bool  { return isIdentStart(c) || unicode.IsDigit(c) }
