package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/standalone"
)

// TestRunRewrittenInPlace: a pass with importSince after an object's
// mtime still copies that object when it was rewritten in place with its
// old mtime (the manifest's size differs from the listing's), and leaves
// out an unchanged old object and an old object the job never saw.
func TestRunRewrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	require.NoError(t, os.MkdirAll(src, 0o700))
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(name, data string, mtime time.Time) {
		p := filepath.Join(src, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
		require.NoError(t, os.Chtimes(p, mtime, mtime))
	}
	write("rewritten.txt", "first version", old)
	write("unchanged.txt", "stays", old)
	run := func(extra ...string) standalone.Report {
		t.Helper()
		cfg := filepath.Join(dir, "job.cfg")
		lines := append([]string{"jobName=inplace", "srcType=local", "srcPrefix=" + src, "destType=local", "destPrefix=" + dst}, extra...)
		require.NoError(t, os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
		code := dispatch(context.Background(), e, []string{"run", "--progress", "none", "--json", "--data-dir", filepath.Join(dir, "data"), cfg})
		require.Equal(t, exitOK, code, errOut.String())
		var rep standalone.Report
		require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
		return rep
	}
	rep := run()
	require.Equal(t, int64(2), rep.Counters.Verified, "pass 1 copies both")

	// Rewritten with its old mtime; an old object the job never saw; a
	// modified one inside the window.
	write("rewritten.txt", "second, longer version", old)
	write("never-seen.txt", "old and new to the job", old)
	write("recent.txt", "in the window", time.Now())
	since := old.Add(24 * time.Hour)
	rep = run("importSince=" + strconv.FormatInt(since.Unix(), 10))
	assert.Equal(t, int64(2), rep.Counters.Verified, "rewritten.txt (same mtime, new size) and recent.txt")
	assert.Equal(t, int64(2), rep.Excluded, "unchanged.txt and never-seen.txt are before importSince")
	got, err := os.ReadFile(filepath.Join(dst, "rewritten.txt"))
	require.NoError(t, err)
	assert.Equal(t, "second, longer version", string(got))
	_, err = os.Stat(filepath.Join(dst, "never-seen.txt"))
	assert.ErrorIs(t, err, os.ErrNotExist, "an old object with no manifest entry was never in scope")
	_, err = os.Stat(filepath.Join(dst, "recent.txt"))
	assert.NoError(t, err)

	code, out, _ := ferryIn(filepath.Join(dir, "data"))("stat", "inplace")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "Window: objects modified in ["+since.Format(time.RFC3339)+", +inf)\n")
}
