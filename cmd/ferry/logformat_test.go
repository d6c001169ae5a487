package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewLogger(t *testing.T) {
	cases := []struct {
		format  string
		wantErr string
		check   func(t *testing.T, line string)
	}{
		{format: "text", check: func(t *testing.T, line string) {
			assert.Contains(t, line, `msg=hello key=value`)
		}},
		{format: "json", check: func(t *testing.T, line string) {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), line)
			assert.Equal(t, "hello", m["msg"])
			assert.Equal(t, "value", m["key"])
			assert.Equal(t, "INFO", m["level"])
		}},
		{format: "yaml", wantErr: `--log-format "yaml": use one of [text json]`},
		{format: "", wantErr: `--log-format ""`},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := newLogger(&buf, tc.format, slog.LevelInfo)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			log.Debug("below the level")
			log.Info("hello", "key", "value")
			tc.check(t, strings.TrimSpace(buf.String()))
		})
	}
}

// Every long-running command refuses a bad --log-format before doing
// anything, naming the flag and what it takes.
func TestLogFormatBadValue(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "job.cfg")
	vars := map[string]string{"FERRY_TOKEN": goodToken, "FERRY_DATA_DIR": filepath.Join(dir, "data")}
	cases := []struct {
		name string
		args []string
	}{
		{"run", []string{"run", "--log-format", "xml", cfg}},
		{"master", []string{"master", "--insecure", "--listen", "127.0.0.1:0", "--log-format", "xml"}},
		{"worker", []string{"worker", "--master", "127.0.0.1:1", "--insecure", "--log-format", "xml"}},
		{"cutover start", []string{"cutover", "start", "--log-format", "xml", cfg}},
		{"cutover switch", []string{"cutover", "switch", "--log-format", "xml", "job"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut syncBuf
			e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
			code := dispatch(t.Context(), e, tc.args)
			assert.Equal(t, exitError, code)
			assert.Contains(t, errOut.String(), `--log-format "xml": use one of [text json]`)
		})
	}
}

// A worker with --log-format json writes its log lines as JSON objects
// (here the warning about an unreachable master), and its own messages
// outside the log stay plain.
func TestWorkerLogsJSON(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuf
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
		return map[string]string{"FERRY_TOKEN": goodToken}[k]
	}}
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, e, []string{"worker", "--master", addr, "--insecure", "--log-format", "json", "--name", "w-json"})
	}()
	var entry map[string]any
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(errOut.String(), "\n") {
			if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == "master unreachable, retrying" {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, errOut.String())
	cancel()
	assert.Equal(t, exitOK, <-done)
	assert.Equal(t, "WARN", entry["level"])
	assert.NotContains(t, errOut.String(), goodToken)
}
