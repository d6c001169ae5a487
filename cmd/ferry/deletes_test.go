package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunDeletes: `ferry run` with delete propagation, as the operator
// sees it: the dry run reports what would go and deletes nothing, the
// guard fails the run naming the count and the limit, a real run deletes
// the extras; `ferry stat` shows the same counts and the reason.
func TestRunDeletes(t *testing.T) {
	cfg := localCfg(t, "sync", 4, "deleteExtraneous=true", "deleteMaxPercent=100")
	dst := filepath.Join(filepath.Dir(cfg), "dst")
	require.NoError(t, os.MkdirAll(dst, 0o700))
	for _, k := range []string{"old1", "old2"} {
		require.NoError(t, os.WriteFile(filepath.Join(dst, k), []byte("x"), 0o600))
	}
	withLine := func(line string) string {
		text, err := os.ReadFile(cfg)
		require.NoError(t, err)
		p := filepath.Join(filepath.Dir(cfg), "variant.cfg")
		require.NoError(t, os.WriteFile(p, []byte(string(text)+line+"\n"), 0o600))
		return p
	}
	ferry := ferryIn(filepath.Join(filepath.Dir(cfg), "data"))

	code, out, errOut := ferry("run", "--progress", "none", withLine("deleteDryRun=true"))
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "deletes   deleted 0, would delete 2 (destination objects with no source object)")
	assert.FileExists(t, filepath.Join(dst, "old1"), "a dry run deletes nothing")

	code, out, _ = ferry("run", "--progress", "none", withLine("deleteMaxCount=1"))
	assert.Equal(t, exitFailures, code)
	assert.Contains(t, out, "RESULT: FAILED: delete propagation stopped: 2 destination objects have no source object, more than deleteMaxCount=1")
	assert.FileExists(t, filepath.Join(dst, "old2"), "the guard deletes nothing")
	code, out, _ = ferry("stat", "sync")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "JobState: Failed\n")
	assert.Contains(t, out, "Deletes: deleted 0, would delete 2")
	assert.Contains(t, out, "Problem: delete propagation stopped: 2 destination objects have no source object, more than deleteMaxCount=1")

	code, out, errOut = ferry("run", "--progress", "none", cfg)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "deletes   deleted 2, would delete 0")
	assert.True(t, strings.Contains(out, "RESULT: OK"), out)
	assert.NoFileExists(t, filepath.Join(dst, "old1"))
	assert.NoFileExists(t, filepath.Join(dst, "old2"))
	assert.FileExists(t, filepath.Join(dst, "f00"))
}
