package master

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilter(t *testing.T) {
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name             string
		include, exclude []string
		key              string
		mtime            time.Time
		want             bool
	}{
		{"no patterns", nil, nil, "a/b.txt", since, true},
		{"too old", nil, nil, "a/b.txt", since.Add(-time.Second), false},
		{"exactly since", nil, nil, "a/b.txt", since, true},
		{"star stays in segment", []string{"*.txt"}, nil, "a/b.txt", since, false},
		{"star top level", []string{"*.txt"}, nil, "b.txt", since, true},
		{"double star any depth", []string{"**/*.txt"}, nil, "a/b/c.txt", since, true},
		{"double star zero depth", []string{"**/*.txt"}, nil, "c.txt", since, true},
		{"exclude wins", []string{"**"}, []string{"tmp/**"}, "tmp/x", since, false},
		{"exclude other", nil, []string{"tmp/**"}, "tmpx/y", since, true},
		{"question mark", []string{"log?.gz"}, nil, "log1.gz", since, true},
		{"class", []string{"[ab].bin"}, nil, "c.bin", since, false},
		{"negated class", []string{"[!ab].bin"}, nil, "c.bin", since, true},
		{"regexp chars literal", []string{"a+b(1).txt"}, nil, "a+b(1).txt", since, true},
		// A source that could not tell the time (a URL whose HEAD failed
		// while listing) is taken: its copy reports why, where dropping it
		// would lose it without a word.
		{"unknown mtime", nil, nil, "a/b.txt", time.Time{}, true},
		{"unknown mtime, excluded by key", nil, []string{"a/**"}, "a/b.txt", time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFilter(since, time.Time{}, tc.include, tc.exclude)
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.Match(tc.key, tc.mtime))
		})
	}
	_, err := NewFilter(time.Time{}, time.Time{}, []string{"a[b"}, nil)
	assert.ErrorContains(t, err, `include pattern "a[b"`)
}

// The window is [Since, Until): the lower bound in, the upper out; a zero
// bound is open. Early is true only for an in-scope key before Since.
func TestFilterWindow(t *testing.T) {
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	cases := []struct {
		name         string
		since, until time.Time
		key          string
		mtime        time.Time
		match, early bool
	}{
		{"inside", t1, t2, "a", t1.Add(time.Hour), true, false},
		{"at since", t1, t2, "a", t1, true, false},
		{"just before until", t1, t2, "a", t2.Add(-time.Nanosecond), true, false},
		{"at until", t1, t2, "a", t2, false, false},
		{"after until", t1, t2, "a", t2.Add(time.Hour), false, false},
		{"before since", t1, t2, "a", t1.Add(-time.Nanosecond), false, true},
		{"before since, excluded key", t1, t2, "tmp/a", t1.Add(-time.Hour), false, false},
		{"no lower bound", time.Time{}, t2, "a", time.Unix(0, 0), true, false},
		{"no lower bound, at until", time.Time{}, t2, "a", t2, false, false},
		{"no upper bound", t1, time.Time{}, "a", t2.Add(1000 * time.Hour), true, false},
		{"no bounds", time.Time{}, time.Time{}, "a", time.Unix(0, 0), true, false},
		{"excluded key inside", t1, t2, "tmp/a", t1.Add(time.Hour), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFilter(tc.since, tc.until, nil, []string{"tmp/**"})
			require.NoError(t, err)
			assert.Equal(t, tc.match, f.Match(tc.key, tc.mtime), "Match")
			assert.Equal(t, tc.early, f.Early(tc.key, tc.mtime), "Early")
		})
	}
}
