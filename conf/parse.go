package conf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// Load reads, defaults and validates the job config at path. Relative
// local paths in it (srcPrefix/destPrefix of a local side, CA bundles)
// are resolved against the directory holding the file, not the current
// directory, so a config means the same thing wherever ferry is started.
func Load(path string) (*Job, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("job config: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads, defaults and validates a job config. name appears in
// messages ("job.cfg:7: destBucket: ...") and its directory is the base
// for relative local paths; "" (shown as job.cfg) or "-" mean the current
// directory. On failure the error joins every problem found, one *Error
// per line, in file order; nothing is returned half-valid.
func Parse(r io.Reader, name string) (*Job, error) {
	file, dir := name, filepath.Dir(name)
	switch name {
	case "":
		file, dir = "job.cfg", "."
	case "-":
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // workers may start elsewhere: hand them absolute paths
	}
	ents, errs, whole := scan(r, file)
	rd := &reader{file: file, dir: dir, entries: ents, used: map[string]bool{}, errs: errs}
	if !whole {
		return nil, rd.err() // checking half a file would only add noise
	}
	j := rd.build()
	if len(rd.errs) > 0 {
		return nil, rd.err()
	}
	sort.SliceStable(rd.notes, func(a, b int) bool { return rd.notes[a].line < rd.notes[b].line })
	for _, n := range rd.notes {
		j.Notes = append(j.Notes, n.text)
	}
	return j, nil
}

// entry is one key's value (trimmed; "" when written blank) and line.
type entry struct {
	val  string
	line int
}

// maxLine bounds one line; a longer one is not a config.
const maxLine = 1 << 20

// scan splits the file into entries. The syntax is OssImport's as its
// files use it: key=value per line, split at the first '=' (secrets and
// Azure keys end in '='), spaces around key and value trimmed, CRLF or
// LF, an optional UTF-8 byte-order mark. Whole lines starting with '#',
// ';' or '!' are comments; there are no trailing comments, because values
// (URLs, secrets, object prefixes) may contain '#'. Values are literal:
// no quotes, backslash escapes or line continuations.
// whole is false when the file could not be read to the end.
func scan(r io.Reader, file string) (ents map[string]entry, errs []*Error, whole bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	ents = map[string]entry{}
	fail := func(line int, key string, err error) {
		errs = append(errs, &Error{File: file, Line: line, Key: key, Err: err})
	}
	n := 0
	for sc.Scan() {
		n++
		text := sc.Text()
		if n == 1 {
			if strings.HasPrefix(text, "\xff\xfe") || strings.HasPrefix(text, "\xfe\xff") {
				fail(n, "", newProblem(ErrSyntax, "the file is UTF-16: save it as UTF-8"))
				return ents, errs, false
			}
			text = strings.TrimPrefix(text, "\ufeff")
		}
		t := strings.TrimSpace(text) // also drops the \r of CRLF
		if t == "" || t[0] == '#' || t[0] == ';' || t[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		prev, dup := ents[k]
		switch {
		case !ok:
			// Not echoed: a mangled line may hold a secret.
			fail(n, "", newProblem(ErrSyntax, "expected key=value (comment lines start with #)"))
		case k == "":
			fail(n, "", newProblem(ErrSyntax, "nothing before '=': expected key=value"))
		case !knownKeys[k]:
			fail(n, k, unknownKey(k))
		case dup:
			fail(n, k, newProblem(ErrDuplicate, "set twice, on line %d and on line %d: keep one", prev.line, n))
		case !utf8.ValidString(v):
			fail(n, k, newProblem(ErrSyntax, "value is not valid UTF-8: save the file as UTF-8"))
		default:
			ents[k] = entry{val: v, line: n}
		}
	}
	if err := sc.Err(); err != nil {
		fail(n+1, "", fmt.Errorf("reading the config: %w", err))
		return ents, errs, false
	}
	return ents, errs, true
}

// reader interprets entries. Its helpers record problems instead of
// returning them so that one pass reports everything wrong at once.
type reader struct {
	file    string
	dir     string // base for relative local paths
	entries map[string]entry
	used    map[string]bool // keys interpreted; tests check none is left over
	errs    []*Error
	notes   []note
}

type note struct {
	line int
	text string
}

// value returns the key's value and whether it is set: a blank value
// ("srcAccessKey=") counts as unset, as in OssImport's own files.
func (r *reader) value(key string) (string, bool) {
	r.used[key] = true
	e := r.entries[key]
	return e.val, e.val != ""
}

// valueOrDefault returns the key's value, else its entry in defaults.
func (r *reader) valueOrDefault(key string) string {
	if v, ok := r.value(key); ok {
		return v
	}
	return defaults[key]
}

// pick returns ferryKey when it is set or oldKey is not, else oldKey: where
// a ferry key and an OssImport key set the same thing, ferry's wins, and a
// note says the other was overridden.
func (r *reader) pick(ferryKey, oldKey string) string {
	cur, newSet := r.value(ferryKey)
	old, oldSet := r.value(oldKey)
	switch {
	case newSet && oldSet:
		if old != cur {
			r.note(oldKey, "%s=%s is overridden by %s=%s", oldKey, old, ferryKey, cur)
		}
		return ferryKey
	case oldSet:
		return oldKey
	}
	return ferryKey
}

func (r *reader) fail(key string, kind error, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Line: r.entries[key].line, Key: key, Err: newProblem(kind, format, args...)})
}

// note records something the config says that ferry does not act on.
func (r *reader) note(key, format string, args ...any) {
	line := r.entries[key].line
	r.notes = append(r.notes, note{line, fmt.Sprintf("%s:%d: ", r.file, line) + fmt.Sprintf(format, args...)})
}

// err joins the problems in file order; absent keys (line 0) come last.
func (r *reader) err() error {
	sort.SliceStable(r.errs, func(a, b int) bool {
		la, lb := r.errs[a].Line, r.errs[b].Line
		return la != 0 && (lb == 0 || la < lb)
	})
	errs := make([]error, len(r.errs))
	for i, e := range r.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// unused lists keys present in the file that nothing interpreted: always
// empty unless a key was added to the key lists and forgotten here.
func (r *reader) unused() []string {
	var out []string
	for k := range r.entries {
		if !r.used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
