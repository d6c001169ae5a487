package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An object the application wrote at the destination after the source's
// copy (newer, another size) is kept under the default policy, and the run
// report and stat count it as kept, apart from copied and failed.
func TestRunKeepsANewerDestinationObject(t *testing.T) {
	ferry := ferryIn(t.TempDir())
	cfg := localCfg(t, "keep", 3)
	dst := filepath.Join(filepath.Dir(cfg), "dst")
	require.NoError(t, os.MkdirAll(dst, 0o700))
	app := filepath.Join(dst, "f01")
	require.NoError(t, os.WriteFile(app, []byte("written by the application after the cutover"), 0o600))
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(app, later, later))

	code, out, stderr := ferry("run", "--progress", "none", cfg)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "outcomes  copied 2, identical 0, kept at the destination 1, failed 0\n", out)
	assert.NotContains(t, out, "race window", "a local destination enforces create-only and if-match")
	assert.Contains(t, out, `KEPT "f01": destination is newer or as new`, "the report lists what it kept, and why")
	got, err := os.ReadFile(app)
	require.NoError(t, err)
	assert.Equal(t, "written by the application after the cutover", string(got))

	code, out, stderr = ferry("stat", "keep")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "Outcomes: copied 2, identical 0, kept at the destination 1, failed 0\n")
	code, out, stderr = ferry("stat", "--json", "keep")
	require.Equal(t, exitOK, code, stderr)
	var js []JobStat
	require.NoError(t, json.Unmarshal([]byte(out), &js), out)
	require.Len(t, js, 1)
	assert.Equal(t, int64(1), js[0].Counters.Kept)
	assert.Equal(t, int64(2), js[0].Counters.Verified)

	code, out, stderr = ferry("failed", "--kept", "keep")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "f01\tdestination is newer or as new (overwritePolicy=if-source-newer)\n", out)
	assert.Contains(t, stderr, `1 kept object(s) in job "keep" pass 1`)
}
