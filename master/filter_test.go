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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFilter(since, tc.include, tc.exclude)
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.Match(tc.key, tc.mtime))
		})
	}
	_, err := NewFilter(time.Time{}, []string{"a[b"}, nil)
	assert.ErrorContains(t, err, `include pattern "a[b"`)
}
