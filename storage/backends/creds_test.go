package backends

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/creds"
	"github.com/ferry-migrate/ferry/storage/retry"
)

// A credentials command that fails makes a request fail with an error
// the retry layer retries (the next attempt runs the command again) and
// that names the program, not its output. No server is reached: the
// request is refused before it is signed.
func TestFailingCredentialsCommandIsRetryable(t *testing.T) {
	dir := t.TempDir()
	helper, runs := filepath.Join(dir, "helper.sh"), filepath.Join(dir, "runs")
	require.NoError(t, os.WriteFile(helper, []byte("#!/bin/sh\necho run >> "+runs+"\necho supersecret >&2\nexit 1\n"), 0o700))
	b, err := Open(t.Context(), Spec{Type: OSS, Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Bucket: "b",
		Credentials: creds.Spec{Kind: creds.KindCommand, Arg: helper},
		Retry:       retry.Policy{MaxAttempts: 3, Initial: time.Millisecond, Max: time.Millisecond}})
	require.NoError(t, err)
	_, err = b.Stat(t.Context(), "k")
	require.Error(t, err)
	assert.Contains(t, err.Error(), helper)
	assert.NotContains(t, err.Error(), "supersecret")
	assert.Equal(t, storage.Retryable, storage.Classify(err))
	out, err := os.ReadFile(runs)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(out), "run"), "each attempt runs the command again")
}

func TestOpenRefusesKeysWithAProvider(t *testing.T) {
	_, err := Open(t.Context(), Spec{Type: S3, Bucket: "b", AccessKey: "AKID", SecretKey: "topsecret",
		Credentials: creds.Spec{Kind: creds.KindFile, Arg: "/x.json"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "takes no access key")
	assert.NotContains(t, err.Error(), "topsecret")
}

func TestSignsWithStaticKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Spec
		want bool
	}{
		{"keys", Spec{Type: OSS, AccessKey: "a"}, true},
		{"keys, static named", Spec{Type: S3, AccessKey: "a", Credentials: creds.Spec{Kind: creds.KindStatic}}, true},
		{"assume-role", Spec{Type: OSS, AccessKey: "a", Credentials: creds.Spec{Kind: creds.KindAssumeRole, Arg: "acs:ram::1:role/r"}}, false},
		{"environment", Spec{Type: OSS}, false},
		{"command", Spec{Type: OSS, Credentials: creds.Spec{Kind: creds.KindCommand, Arg: "x"}}, false},
		{"local", Spec{Type: Local, AccessKey: "a"}, false},
	} {
		assert.Equal(t, tc.want, tc.s.SignsWithStaticKeys(), tc.name)
	}
}
