package plan

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/storage/local"
)

// tree writes files of the given sizes under a fresh directory.
func tree(t *testing.T, files map[string]int) string {
	t.Helper()
	root := t.TempDir()
	for k, n := range files {
		p := filepath.Join(root, filepath.FromSlash(k))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, make([]byte, n), 0o644))
	}
	return root
}

func TestList(t *testing.T) {
	// 3 prefixes of 3, 3 and 2 objects, and 2 objects at the top level.
	root := tree(t, map[string]int{
		"a/1": 10, "a/2": 10, "a/3": 10,
		"b/1": 10, "b/2": 10, "b/3.log": 10,
		"c/1": 2 * mib, "c/2": 10,
		"top": 5, "top.log": 5,
	})
	src, err := local.New(root, local.Options{})
	require.NoError(t, err)
	shape := Shape{Threshold: mib, PartSize: mib, MinPartSize: mib, Multipart: true}
	noLogs, err := master.NewFilter(time.Time{}, time.Time{}, nil, []string{"**.log"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		o        ListOptions
		objects  int64
		excluded int64
		list     int64
		exact    bool
		trunc    bool
	}{
		{"everything, one stream: ⌈10/4⌉ pages", ListOptions{PageSize: 4}, 10, 0, 3, true, false},
		// Top level: 2 objects + 3 prefixes = 5 entries, 2 pages; then
		// a (3: 1 page), b (3: 1), c (2: 1).
		{"parallel scanning: a page run per prefix", ListOptions{PageSize: 4, Parallel: true}, 10, 0, 5, true, false},
		{"the pass's filter", ListOptions{PageSize: 4, Filter: noLogs}, 8, 2, 3, true, false},
		{"bounded", ListOptions{PageSize: 4, MaxList: 4}, 4, 0, 1, false, true},
		{"sample of every prefix: exact", ListOptions{PageSize: 1000, Sample: 3}, 10, 0, 1, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Src, o.Shape, o.Rand, o.Keep = src, shape, rand.New(rand.NewPCG(1, 2)), 100
			s, err := List(t.Context(), o)
			require.NoError(t, err)
			assert.Equal(t, tc.objects, s.Objects)
			assert.Equal(t, tc.excluded, s.Excluded)
			assert.Equal(t, tc.list, s.Req.List)
			assert.Equal(t, tc.trunc, s.Truncated)
			assert.Equal(t, tc.exact, !s.Truncated && (!s.Sampled || s.SampledPrefixes == s.Prefixes))
			assert.Equal(t, int(s.Objects), len(s.Small)+len(s.Large), "all kept for the probe (Keep is larger)")
		})
	}

	t.Run("sample of some prefixes: extrapolated", func(t *testing.T) {
		s, err := List(t.Context(), ListOptions{Src: src, Shape: shape, Sample: 2, Rand: rand.New(rand.NewPCG(1, 2)), Keep: 100})
		require.NoError(t, err)
		assert.True(t, s.Sampled)
		assert.Equal(t, 3, s.Prefixes)
		assert.Equal(t, 2, s.SampledPrefixes)
		// 2 top-level objects exactly, plus 3/2 × the sampled prefixes'
		// objects: a and b (3+3, alike: no spread) give 11; c and one of
		// them (2+3, unlike) 2 + 7.5 rounded, 10, with a spread.
		switch s.Objects {
		case 11:
			assert.Zero(t, s.ObjectsSpread)
		case 10:
			assert.Positive(t, s.ObjectsSpread)
		default:
			t.Errorf("estimated %d objects; want 10 or 11", s.Objects)
		}
	})

	t.Run("local sources make no LIST requests", func(t *testing.T) {
		s, err := List(t.Context(), ListOptions{Src: src, Shape: shape, NoListReq: true})
		require.NoError(t, err)
		assert.Zero(t, s.Req.List)
	})
}
