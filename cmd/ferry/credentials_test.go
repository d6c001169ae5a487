package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command's own checks, before any master is reached: secrets come
// only from files, and an error never shows one.
func TestCredentialsCommandChecks(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("topsecretvalue\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	// A master address nothing listens on: the checks come first.
	m := []string{"--master", "127.0.0.1:1"}
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"needs a master", []string{"credentials", "--src-access-key", "AK", "--src-secret-key-file", secret, "j"},
			"credentials needs --master"},
		{"nothing to give", append(append([]string{"credentials"}, m...), "j"),
			"give --src-access-key and/or --dest-access-key"},
		{"secret without key", append(append([]string{"credentials"}, m...), "--dest-secret-key-file", secret, "j"),
			"--dest-access-key is needed"},
		{"key without secret file", append(append([]string{"credentials"}, m...), "--src-access-key", "AK", "j"),
			"--src-secret-key-file is needed"},
		{"missing file", append(append([]string{"credentials"}, m...), "--src-access-key", "AK", "--src-secret-key-file", filepath.Join(dir, "nope"), "j"),
			"--src-secret-key-file: open"},
		{"empty file", append(append([]string{"credentials"}, m...), "--src-access-key", "AK", "--src-secret-key-file", empty, "j"),
			"the file is empty"},
		{"stdin twice", append(append([]string{"credentials"}, m...), "--src-access-key", "AK", "--src-secret-key-file", "-",
			"--src-security-token-file", "-", "j"), "stdin is already read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cli(t)(tc.args...)
			assert.Equal(t, exitError, code, stderr)
			assert.Contains(t, stderr, tc.err)
			assert.NotContains(t, stderr, "topsecretvalue")
		})
	}
}
