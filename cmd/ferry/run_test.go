package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunCPUProfile: `ferry run --cpuprofile` leaves a pprof profile
// (gzip) readable by its owner only, and a path it cannot create is an
// error naming the flag, before anything is copied.
func TestRunCPUProfile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	require.NoError(t, os.MkdirAll(src, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello"), 0o600))
	cfg := filepath.Join(dir, "job.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Join([]string{"jobName=prof", "srcType=local", "srcPrefix=" + src,
		"destType=local", "destPrefix=" + filepath.Join(dir, "dst") + "/"}, "\n")), 0o600))
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
		code := dispatch(context.Background(), e, append([]string{"run", "--progress", "none", "--data-dir", filepath.Join(dir, "data")}, args...))
		return code, errOut.String()
	}

	prof := filepath.Join(dir, "cpu.pprof")
	code, stderr := run("--cpuprofile", prof, cfg)
	require.Equal(t, exitOK, code, stderr)
	fi, err := os.Stat(prof)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	data, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.Greater(t, len(data), 2)
	assert.Equal(t, []byte{0x1f, 0x8b}, data[:2], "pprof profiles are gzipped")

	code, stderr = run("--cpuprofile", filepath.Join(dir, "no", "such", "dir", "cpu.pprof"), cfg)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "--cpuprofile")
}
