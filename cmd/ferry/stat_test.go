package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ferryIn runs ferry commands in-process with data as the default data
// dir (FERRY_DATA_DIR) and nothing else from the environment.
func ferryIn(data string) func(args ...string) (code int, stdout, stderr string) {
	return func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
			if k == "FERRY_DATA_DIR" {
				return data
			}
			return ""
		}}
		code := dispatch(context.Background(), e, args)
		return code, out.String(), errOut.String()
	}
}

// localCfg writes n small source files and a local -> local job file.
func localCfg(t *testing.T, name string, n int, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src") + "/"
	require.NoError(t, os.MkdirAll(src, 0o700))
	for i := range n {
		require.NoError(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), []byte("hello"), 0o600))
	}
	cfg := filepath.Join(dir, name+".cfg")
	lines := append([]string{"jobName=" + name, "srcType=local", "srcPrefix=" + src, "destType=local",
		"destPrefix=" + filepath.Join(dir, "dst") + "/", "taskObjectCountLimit=2"}, extra...)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return cfg
}

// After a second pass that had nothing to do, stat still shows what the
// job did: the pass's own zeros, and the totals over both passes.
func TestStatShowsTotalsAfterANoOpPass(t *testing.T) {
	ferry := ferryIn(t.TempDir())
	cfg := localCfg(t, "tot", 5)
	for range 2 {
		code, _, stderr := ferry("run", "--progress", "none", cfg)
		require.Equal(t, exitOK, code, stderr)
	}
	code, out, stderr := ferry("stat", "tot")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "Pass: 2\n")
	assert.Contains(t, out, "Objects: listed 5, verified 0, skipped 5, failed 0\n", "pass 2 copied nothing")
	assert.Contains(t, out, "Totals (2 passes): objects listed 10, verified 5, skipped 5, failed 0; shards 3 (done 3, failed 0)")
	assert.Regexp(t, `(?m)^LastRun: \d{4}-\d\d-\d\dT`, out, "when the last pass ended")
	code, out, _ = ferry("jobs")
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^JOB .* LAST RUN +NEXT RUN$`, out)
	assert.Regexp(t, `(?m)^tot +succeeded +2 .* \d{4}-\d\d-\d\dT\S+ +-$`, out, "a job that does not repeat has no next run")

	code, out, stderr = ferry("stat", "--json", "tot")
	require.Equal(t, exitOK, code, stderr)
	var js []JobStat
	require.NoError(t, json.Unmarshal([]byte(out), &js), out)
	require.Len(t, js, 1)
	assert.Equal(t, "import", js[0].JobType)
	assert.Zero(t, js[0].Counters.Verified)
	assert.Equal(t, int64(5), js[0].Totals.Verified)
	assert.Equal(t, int64(3), js[0].Totals.ShardsDone)
}

// An audit's stat says how many objects it compared, not "verified 0".
func TestStatOfAnAudit(t *testing.T) {
	ferry := ferryIn(t.TempDir())
	cfg := localCfg(t, "aud", 3, "jobType=audit")
	dst := filepath.Join(filepath.Dir(cfg), "dst")
	require.NoError(t, os.MkdirAll(dst, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dst, "extra"), []byte("x"), 0o600))
	code, _, stderr := ferry("run", "--progress", "none", cfg)
	require.Equal(t, exitFailures, code, "nothing at the destination: every object differs\n%s", stderr)
	code, out, stderr := ferry("stat", "aud")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "Objects: compared 3, match 0, differ or missing 3, only at the destination 1\n",
		"the count of the run, read back from the data dir")
	assert.Contains(t, out, "Totals (1 pass): objects compared 3, match 0, differ or missing 3\n")
}

// The local admin commands' messages, through the admin client: retry
// says how the objects get copied, clean says where the job was removed
// from, and an unknown job is named.
func TestLocalAdminCommands(t *testing.T) {
	data := t.TempDir()
	ferry := ferryIn(data)
	cfg := localCfg(t, "adm", 2)
	code, _, stderr := ferry("run", "--progress", "none", cfg)
	require.Equal(t, exitOK, code, stderr)

	code, out, stderr := ferry("failed", "adm")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, `0 failed object(s) in job "adm"`)
	code, out, _ = ferry("retry", "adm")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "0 object(s) of job \"adm\" queued again; `ferry run <the job's .cfg>` copies them")
	code, out, _ = ferry("jobs")
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^adm\s+succeeded\s+1\s+2\s`, out)

	code, _, stderr = ferry("failed", "nope")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, `"nope"`)
	for _, cmd := range []string{"pause", "resume", "cancel", "throttle"} {
		code, _, stderr = ferry(cmd, "adm")
		assert.Equal(t, exitError, code, cmd)
		assert.Contains(t, stderr, cmd+" needs --master", cmd)
	}

	code, out, stderr = ferry("clean", "adm")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, fmt.Sprintf("job %q removed from %s\n", "adm", data), out)
	code, _, stderr = ferry("stat", "adm")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, `"adm"`)
}
