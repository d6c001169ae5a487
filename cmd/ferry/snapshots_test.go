package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotJob writes a local -> local backupKind=snapshot job with
// keepLast=1 over two source files ("hello" each) and returns its config
// and source directory.
func snapshotJob(t *testing.T, name string) (cfg, src string) {
	t.Helper()
	dir := t.TempDir()
	src = filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(src, 0o700))
	for _, k := range []string{"a", "b"} {
		require.NoError(t, os.WriteFile(filepath.Join(src, k), []byte("hello"), 0o600))
	}
	cfg = filepath.Join(dir, name+".cfg")
	lines := []string{"jobName=" + name, "srcType=local", "srcPrefix=" + src + "/", "destType=local",
		"destPrefix=" + filepath.Join(dir, "dst") + "/{time:2006-01-02T15-04-05}/", "backupKind=snapshot", "keepLast=1"}
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return cfg, src
}

// Three runs of a snapshot job with keepLast=1, source file "a" changed
// before each later run: one complete snapshot is left, the two before
// it removed by retention; the later passes copied "b" inside the
// destination and read only "a" from the source.
func TestSnapshots(t *testing.T) {
	ferry := ferryIn(t.TempDir())
	cfg, src := snapshotJob(t, "bak")
	changed := []string{"", "hello, world", "hello again, world"}
	for i, content := range changed {
		if content != "" {
			require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte(content), 0o600))
		}
		code, out, stderr := ferry("run", "--progress", "none", cfg)
		require.Equal(t, exitOK, code, stderr)
		assert.Regexp(t, `(?m)^  snapshot  \S+/ complete, 2 objects, `, out, "run %d reports its snapshot", i+1)
		if i > 0 {
			assert.Contains(t, out, ", server-side copies 1 (5 B), read from the source "+bytesIEC(int64(len(content)))+"\n",
				"run %d: b copied from the base, only a read", i+1)
		} else {
			assert.Contains(t, out, ", base none, server-side copies 0 (0 B), read from the source 10 B\n")
		}
	}

	code, out, stderr := ferry("snapshots", "bak")
	require.Equal(t, exitOK, code, stderr)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3, out)
	assert.Regexp(t, `^PASS +STARTED +STATE +OBJECTS +BYTES +BASE +READ +SERVER-COPIED +PREFIX$`, lines[0])
	assert.Regexp(t, `^3 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +complete +2 +23 B +2 +18 B +1 \(5 B\) +\S+/$`, lines[1])
	assert.Equal(t, "2 removed snapshot(s) hidden; --all shows them", lines[2])

	code, out, stderr = ferry("snapshots", "--all", "bak")
	require.Equal(t, exitOK, code, stderr)
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 6, out)
	assert.Regexp(t, `^1 +\S+ +removed +2 +10 B +- +10 B +0 \(0 B\) +\S+/$`, lines[1])
	assert.Equal(t, "    why: retention keep-last 1: not kept by any rule", lines[2])
	assert.Regexp(t, `^2 +\S+ +removed +2 +17 B +1 +12 B +1 \(5 B\) `, lines[3])
	assert.Regexp(t, `^    why: retention`, lines[4])
	assert.Regexp(t, `^3 +\S+ +complete `, lines[5])
	assert.NotContains(t, out, "hidden")

	code, out, stderr = ferry("snapshots", "--json", "bak")
	require.Equal(t, exitOK, code, stderr)
	var ss []snapshotInfo
	require.NoError(t, json.Unmarshal([]byte(out), &ss), out)
	require.Len(t, ss, 1, "removed ones hidden, as in the table")
	s := ss[0]
	assert.Equal(t, uint64(3), s.Pass)
	assert.Equal(t, "complete", s.State)
	assert.Equal(t, int64(2), s.Objects)
	assert.Equal(t, int64(23), s.Bytes)
	assert.Equal(t, uint64(2), s.Base)
	assert.NotEmpty(t, s.BasePrefix)
	assert.Equal(t, int64(18), s.BytesRead)
	assert.Equal(t, int64(1), s.ServerCopied)
	assert.Equal(t, int64(5), s.ServerCopiedBytes)
	require.NotNil(t, s.Complete)
	assert.Nil(t, s.Removed)
	assert.Equal(t, "UTC", s.Started.Location().String())
	for _, key := range []string{`"pass"`, `"started"`, `"prefix"`, `"state"`, `"objects"`, `"bytes"`, `"base"`, `"base_prefix"`,
		`"bytes_read"`, `"server_copied"`, `"server_copied_bytes"`, `"complete"`} {
		assert.Contains(t, out, key+":")
	}
	code, out, stderr = ferry("snapshots", "--json", "--all", "bak")
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(out), &ss), out)
	require.Len(t, ss, 3)
	assert.Equal(t, "removed", ss[0].State)
	assert.NotNil(t, ss[0].Removed)
	assert.Contains(t, ss[0].Why, "keep-last 1")

	// stat shows the last pass's snapshot in the same words as the report.
	code, out, stderr = ferry("stat", "bak")
	require.Equal(t, exitOK, code, stderr)
	assert.Regexp(t, `(?m)^Snapshot: `+regexp.QuoteMeta(ss[2].Prefix)+` complete, 2 objects, 23 B, base `+
		regexp.QuoteMeta(ss[1].Prefix)+`, server-side copies 1 \(5 B\), read from the source 18 B$`, out)
	assert.NotContains(t, out, "why:")
	code, out, stderr = ferry("stat", "--json", "bak")
	require.Equal(t, exitOK, code, stderr)
	var js []JobStat
	require.NoError(t, json.Unmarshal([]byte(out), &js), out)
	require.Len(t, js, 1)
	require.NotNil(t, js[0].Snapshot)
	assert.Equal(t, ss[2], *js[0].Snapshot, "stat's snapshot is an element of `ferry snapshots --json`")
}

// `ferry run --json` reports its pass's snapshot in the shape of
// `ferry snapshots --json`, not in Go's field names.
func TestRunJSONSnapshot(t *testing.T) {
	ferry := ferryIn(t.TempDir())
	cfg, _ := snapshotJob(t, "bakjson")
	code, out, stderr := ferry("run", "--progress", "none", "--json", cfg)
	require.Equal(t, exitOK, code, stderr)
	var raw struct {
		Snapshot json.RawMessage `json:"snapshot"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &raw), out)
	require.NotEmpty(t, raw.Snapshot, out)
	assert.NotContains(t, string(raw.Snapshot), `"Prefix"`, "no Go field names")
	var snap snapshotInfo
	require.NoError(t, json.Unmarshal(raw.Snapshot, &snap))
	code, sout, stderr := ferry("snapshots", "--json", "bakjson")
	require.Equal(t, exitOK, code, stderr)
	var ss []snapshotInfo
	require.NoError(t, json.Unmarshal([]byte(sout), &ss), sout)
	require.Len(t, ss, 1)
	assert.Equal(t, ss[0], snap, "run --json's snapshot is `ferry snapshots --json`'s")
}

// A job that is not a snapshot job has none, said in words (exit 0) or as
// an empty array; an unknown job is an error, as with stat.
func TestSnapshotsOfOtherJobs(t *testing.T) {
	ferry := ferryIn(t.TempDir())
	cfg := localCfg(t, "plain", 2)
	code, out, stderr := ferry("run", "--progress", "none", cfg)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, out, "snapshot")

	code, out, stderr = ferry("snapshots", "plain")
	assert.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "job plain has no snapshots: it is not a backupKind=snapshot job\n", out)
	code, out, _ = ferry("snapshots", "--json", "plain")
	assert.Equal(t, exitOK, code)
	assert.JSONEq(t, "[]", out)
	code, out, _ = ferry("stat", "plain")
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, out, "Snapshot:")

	statCode, _, statErr := ferry("stat", "nope")
	code, out, stderr = ferry("snapshots", "nope")
	assert.Equal(t, exitError, code)
	assert.Equal(t, statCode, code, "the same exit code as stat")
	assert.Empty(t, out)
	assert.Equal(t, statErr, stderr, "the same message as stat")
	assert.Contains(t, stderr, `"nope"`)

	code, _, stderr = ferry("snapshots")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "ferry snapshots: missing JOB")
}

// The stat block's Snapshot line, with the reason under it when set.
func TestStatSnapshotLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap *snapshotInfo
		want []string
	}{
		{"none", nil, nil},
		{"first", &snapshotInfo{Prefix: "b/1/", State: "running", Objects: 3, Bytes: 2048, BytesRead: 2048},
			[]string{"Snapshot: b/1/ running, 3 objects, 2.0 KiB, base none, server-side copies 0 (0 B), read from the source 2.0 KiB\n"}},
		{"with a reason", &snapshotInfo{Prefix: "b/2/", State: "complete", Objects: 3, Bytes: 2048, Base: 1, BasePrefix: "b/1/",
			BytesRead: 1024, ServerCopied: 2, ServerCopiedBytes: 1024, Why: "would be removed (retentionDryRun): retention keep-last 1"},
			[]string{"Snapshot: b/2/ complete, 3 objects, 2.0 KiB, base b/1/, server-side copies 2 (1.0 KiB), read from the source 1.0 KiB\n" +
				"  why: would be removed (retentionDryRun): retention keep-last 1\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			printStat(&env{stdout: &out}, JobStat{JobName: "j", JobState: "running", Snapshot: tc.snap})
			if tc.want == nil {
				assert.NotContains(t, out.String(), "Snapshot")
			}
			for _, w := range tc.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}
