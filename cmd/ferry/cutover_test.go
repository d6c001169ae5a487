package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The cutover command's dispatch: its usage, its subcommands, and what it
// says to a mistake.
func TestCutoverDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"no subcommand", []string{"cutover"}, exitError, "ferry cutover start JOB.cfg"},
		{"help", []string{"cutover", "-h"}, exitOK, "ferry cutover finish JOB"},
		{"unknown subcommand", []string{"cutover", "begin"}, exitError, `unknown subcommand "begin": use start, switch, finish or status`},
		{"start without a job file", []string{"cutover", "start"}, exitError, "missing JOB.cfg"},
		{"switch without a job", []string{"cutover", "switch"}, exitError, "missing JOB"},
		{"finish of an unknown job", []string{"cutover", "finish", "--data-dir", "DATA", "nosuch"}, exitError, "no cutover for job \"nosuch\""},
		{"status through a master without a token", []string{"cutover", "status", "--master", "h:1", "j"}, exitError, "no cluster token"},
		{"negative limit", []string{"cutover", "finish", "--limit", "-1", "j"}, exitError, "--limit -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
			args := tt.args
			for i, a := range args {
				if a == "DATA" {
					args = append(append([]string{}, args[:i]...), append([]string{t.TempDir()}, args[i+1:]...)...)
				}
			}
			code := dispatch(context.Background(), e, args)
			assert.Equal(t, tt.code, code, errOut.String())
			assert.Contains(t, errOut.String(), tt.wantStderr)
		})
	}
}
