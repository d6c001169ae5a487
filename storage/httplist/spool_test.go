package httplist

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spoolKeys reads the whole spool through the same search and scan List
// uses, from the first key after startAfter.
func spoolKeys(t *testing.T, b *Backend, startAfter string) (keys, urls []string) {
	t.Helper()
	path, err := b.spoolPath(t.Context())
	require.NoError(t, err)
	s, err := openSpool(path)
	require.NoError(t, err)
	defer s.Close()
	off, err := s.search(func(k string) bool { return k > startAfter })
	require.NoError(t, err)
	r := s.scanner(off)
	for {
		k, u, ok, err := nextRecord(r)
		require.NoError(t, err)
		if !ok {
			return keys, urls
		}
		keys, urls = append(keys, k), append(urls, u)
	}
}

func writeList(t *testing.T, lines []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "urls.list")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return p
}

func TestSpoolSortsMergesAndResumes(t *testing.T) {
	const n = 50_000
	rng := rand.New(rand.NewPCG(1, 2))
	var lines, want []string
	for i := range n {
		k := fmt.Sprintf("d%02d/obj-%06d.bin", rng.IntN(100), i)
		want = append(want, k)
		lines = append(lines, fmt.Sprintf("http://h%d.example/base/ %s", i%3, k))
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	// A duplicate: the later line wins, and the earlier one is reported.
	lines = append(lines, "http://first.example/ "+want[7], "# comment", "", "http://later.example/ "+want[7])
	slices.Sort(want)

	var skipped []string
	spool := t.TempDir()
	b, err := New(Options{ListFile: writeList(t, lines), PrefixColumn: 1, RelativeColumn: 2,
		SpoolDir: spool, ChunkBytes: 64 << 10, // ~600 lines a chunk: ~80 runs to merge
		OnSkip: func(what string, err error) { skipped = append(skipped, what+": "+err.Error()) }})
	require.NoError(t, err)

	keys, urls := spoolKeys(t, b, "")
	require.Equal(t, want, keys, "every key once, in byte order")
	i := slices.Index(keys, strings.SplitN(lines[n+3], " ", 2)[1])
	assert.Equal(t, "http://later.example/"+keys[i], urls[i], "the later line of a duplicate wins")
	require.Len(t, skipped, 2, "both earlier lines of the key are reported: %q", skipped)
	for _, s := range skipped {
		assert.Contains(t, s, "listed again on line")
	}

	for _, after := range []string{keys[0], keys[12345], keys[n-2], "d50/", "a", "zzz"} {
		rest, _ := spoolKeys(t, b, after)
		from, _ := slices.BinarySearch(want, after)
		if from < len(want) && want[from] == after {
			from++
		}
		assert.Equal(t, nilIfEmpty(want[from:]), rest, "after %q", after)
	}

	entries, err := os.ReadDir(spool)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the runs are removed; only the spool stays")

	// A second backend over the same list (a restarted process) reuses it.
	b2, err := New(Options{ListFile: b.o.ListFile, PrefixColumn: 1, RelativeColumn: 2, SpoolDir: spool})
	require.NoError(t, err)
	p1, _ := b.spoolPath(t.Context())
	p2, _ := b2.spoolPath(t.Context())
	assert.Equal(t, p1, p2)
}

func TestSpoolLookup(t *testing.T) {
	var lines []string
	for i := range 3000 {
		lines = append(lines, fmt.Sprintf("http://h/ k%05d", i*2))
	}
	b, err := New(Options{ListFile: writeList(t, lines), PrefixColumn: 1, RelativeColumn: 2, SpoolDir: t.TempDir()})
	require.NoError(t, err)
	path, err := b.spoolPath(t.Context())
	require.NoError(t, err)
	s, err := openSpool(path)
	require.NoError(t, err)
	defer s.Close()
	for _, i := range []int{0, 1, 2, 1500, 1501, 5998, 5999, 6000} {
		u, ok, err := s.lookup(fmt.Sprintf("k%05d", i))
		require.NoError(t, err)
		assert.Equal(t, i%2 == 0 && i < 6000, ok, "k%05d", i)
		if ok {
			assert.Equal(t, fmt.Sprintf("http://h/k%05d", i), u)
		}
	}
}

func TestSpoolReportsBadLines(t *testing.T) {
	var skipped []string
	b, err := New(Options{ListFile: writeList(t, []string{"http://h/", "http://u:secretpw@h/ k", "http://h/ ok"}),
		PrefixColumn: 1, RelativeColumn: 2, SpoolDir: t.TempDir(),
		OnSkip: func(what string, err error) { skipped = append(skipped, what+": "+err.Error()) }})
	require.NoError(t, err)
	keys, _ := spoolKeys(t, b, "")
	assert.Equal(t, []string{"ok"}, keys)
	require.Len(t, skipped, 2)
	assert.Contains(t, skipped[0], "urls.list:1: ")
	assert.Contains(t, skipped[1], "urls.list:2: ")
	assert.NotContains(t, strings.Join(skipped, " "), "secretpw")
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
