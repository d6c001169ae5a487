package tracker

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mappedKiB is the resident size of the process's mappings of path, from
// /proc/self/smaps.
func mappedKiB(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	var kib int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[5] == path
		case in && fields[0] == "Rss:":
			n, err := strconv.ParseInt(fields[1], 10, 64)
			require.NoError(t, err)
			kib += n
		}
	}
	require.NoError(t, sc.Err())
	return kib
}

// TestTrimResidentDropsMappedPages: after the tracker has read every page of
// a multi-megabyte file through its mapping, a trim leaves almost none of it
// resident, and everything still reads back the same.
func TestTrimResidentDropsMappedPages(t *testing.T) {
	s := newJob(t)
	const shards, per = 40, 2000
	var ids []uint64
	for i := range shards {
		sh := shardsOf("a", i*per, 1, per)
		got, err := s.AppendShards("j", 1, sh, nil, ScanCheckpoint{Stream: "a", After: sh[0].Objects[per-1].Key})
		require.NoError(t, err)
		ids = append(ids, got...)
	}
	fi, err := os.Stat(s.Path())
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(2<<20), "the file must span many pages for the test to mean anything")

	readAll := func() []ShardRecord {
		var recs []ShardRecord
		for _, id := range ids {
			rec, ok, err := s.GetShard("j", 1, id)
			require.NoError(t, err)
			require.True(t, ok)
			recs = append(recs, rec)
		}
		return recs
	}
	before := readAll()
	faulted := mappedKiB(t, s.Path())
	require.Greater(t, faulted, fi.Size()/1024/2, "reading every shard maps most of the file")

	s.trimmed.Store(0) // not throttled: the last trim was long ago
	s.trimResident()
	trimmed := mappedKiB(t, s.Path())
	require.Less(t, trimmed, faulted/8, "resident KiB after the trim (%d before)", faulted)

	require.Equal(t, before, readAll(), "the data reads back unchanged after the trim")
}
