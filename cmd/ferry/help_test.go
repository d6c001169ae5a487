package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli returns a runner of ferry in-process with a throwaway data dir, so
// no case can touch ./ferry-data; one dir per runner keeps the -h text
// (it shows the default) the same across its calls.
func cli(t *testing.T) func(args ...string) (code int, stdout, stderr string) {
	return ferryIn(t.TempDir())
}

func TestFirstUseMessages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		wantOut  string // stdout contains
		wantErr  string // stderr contains
		exactErr bool   // stderr is exactly wantErr
		emptyOut bool
	}{
		{name: "typo gets a suggestion", args: []string{"stats"}, code: exitError,
			wantErr: "ferry: unknown command \"stats\"; did you mean \"stat\"?\nRun `ferry help` for the list of commands.\n", exactErr: true, emptyOut: true},
		{name: "swapped letters", args: []string{"retyr"}, code: exitError, wantErr: `did you mean "retry"?`},
		{name: "prefix of two", args: []string{"wor"}, code: exitError, wantErr: `did you mean "worker" or "workers"?`},
		{name: "nothing near lists the commands", args: []string{"frobnicate"}, code: exitError,
			wantErr: "ferry: unknown command \"frobnicate\"\n\nusage: ferry <command>"},
		{name: "flag before the command", args: []string{"--data-dir", "x", "stat"}, code: exitError, wantErr: `"--data-dir" before the command: flags go after it`},
		{name: "help unknown", args: []string{"help", "nosuch"}, code: exitError, wantErr: `ferry: unknown command "nosuch"`, emptyOut: true},
		{name: "help typo", args: []string{"help", "stats"}, code: exitError, wantErr: `did you mean "stat"?`, emptyOut: true},
		{name: "help two commands", args: []string{"help", "run", "stat"}, code: exitError, wantErr: "ferry help: takes one command"},
		{name: "help lists commands", args: []string{"help"}, code: exitOK, wantOut: "commands:\n  run "},
		{name: "-h lists commands", args: []string{"-h"}, code: exitOK, wantOut: "commands:\n  run "},
		{name: "no command", args: nil, code: exitError, wantOut: "usage: ferry <command>"},
		{name: "version", args: []string{"version"}, code: exitOK, wantOut: "ferry " + version + "\n"},
		{name: "--version", args: []string{"--version"}, code: exitOK, wantOut: "ferry " + version + "\n"},
		{name: "-v", args: []string{"-v"}, code: exitOK, wantOut: "ferry " + version + "\n"},
		{name: "version takes no arguments", args: []string{"version", "x"}, code: exitError, wantErr: "takes no arguments"},
		{name: "run without a job file", args: []string{"run"}, code: exitError,
			wantErr: "ferry run: missing JOB.cfg (the job file to run); usage: ferry run [flags] JOB.cfg\n", exactErr: true, emptyOut: true},
		{name: "run with flags but no job file", args: []string{"run", "--workers", "4"}, code: exitError, wantErr: "ferry run: missing JOB.cfg"},
		{name: "run with two job files", args: []string{"run", "a.cfg", "b.cfg"}, code: exitError,
			wantErr: "ferry run: unexpected argument \"b.cfg\"; usage: ferry run [flags] JOB.cfg\n", exactErr: true},
		{name: "clean names the required job only", args: []string{"clean"}, code: exitError,
			wantErr: "ferry clean: missing JOB (a job name, as `ferry jobs` lists it); usage: ferry clean [flags] JOB [JOB.cfg]\n", exactErr: true},
		{name: "failed without a job", args: []string{"failed"}, code: exitError, wantErr: "ferry failed: missing JOB ("},
		{name: "submit without a job file", args: []string{"submit"}, code: exitError, wantErr: "ferry submit: missing JOB.cfg (the job file to send to the master)"},
		{name: "stat takes one job at most", args: []string{"stat", "a", "b", "c"}, code: exitError,
			wantErr: "ferry stat: unexpected arguments \"b\" \"c\"; usage: ferry stat [flags] [JOB]\n", exactErr: true},
		{name: "jobs takes none", args: []string{"jobs", "x"}, code: exitError,
			wantErr: "ferry jobs: unexpected argument \"x\"; usage: ferry jobs [flags]\n", exactErr: true},
		{name: "bad flag still shows usage", args: []string{"run", "--nosuch"}, code: exitError, wantErr: "flag provided but not defined: -nosuch\nusage: ferry run [flags] JOB.cfg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t)(tc.args...)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			if tc.exactErr {
				assert.Equal(t, tc.wantErr, stderr)
			} else {
				assert.Contains(t, stderr, tc.wantErr)
			}
			assert.Contains(t, stdout, tc.wantOut)
			if tc.emptyOut {
				assert.Empty(t, stdout)
			}
		})
	}
}

// TestHelpIsDashH: `ferry help CMD` prints what `ferry CMD -h` prints, for
// every command, on stdout, with exit 0.
func TestHelpIsDashH(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			runCLI := cli(t)
			code, stdout, stderr := runCLI(c.name, "-h")
			require.Equal(t, exitOK, code, stderr)
			dashH := stdout + stderr
			require.Contains(t, dashH, "usage: ferry "+c.name)

			code, stdout, stderr = runCLI("help", c.name)
			require.Equal(t, exitOK, code, stderr)
			assert.Empty(t, stderr)
			assert.Equal(t, dashH, stdout)

			code, stdout, _ = runCLI("-h", c.name)
			require.Equal(t, exitOK, code)
			assert.Equal(t, dashH, stdout, "ferry -h CMD is ferry help CMD")
		})
	}
}

// TestFlagPlaceholders: Go's flag package takes the first `quoted` word
// of a usage string as the flag's placeholder, so backquotes around
// anything but the value's name garble -h ("-cpuprofile go tool pprof").
// Every placeholder must be one word.
func TestFlagPlaceholders(t *testing.T) {
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)(?: (.*))?$`)
	runCLI := cli(t)
	for _, c := range commands() {
		_, stdout, stderr := runCLI(c.name, "-h")
		for _, m := range flagLine.FindAllStringSubmatch(stdout+stderr, -1) {
			assert.NotContains(t, strings.TrimSpace(m[2]), " ", "ferry %s -%s: placeholder %q", c.name, m[1], m[2])
		}
	}
	_, _, stderr := runCLI("run", "-h")
	assert.Contains(t, stderr, "\n  -cpuprofile FILE\n")
}

func TestSuggest(t *testing.T) {
	names := []string{"run", "stat", "jobs", "retry", "resume", "submit", "worker", "workers"}
	for _, tc := range []struct {
		word string
		want []string
	}{
		{"stats", []string{"stat"}},            // one extra letter
		{"stta", []string{"stat"}},             // swapped letters: two edits
		{"retyr", []string{"retry"}},           // swapped at the end
		{"Run", []string{"run"}},               // case ignored
		{"rn", []string{"run"}},                // short word, one edit
		{"work", []string{"worker"}},           // two edits beat the prefix
		{"wor", []string{"worker", "workers"}}, // "run" is 2 away: too far for 3 letters
		{"sub", []string{"submit"}},            // prefix
		{"re", []string{"retry", "resume"}},    // prefix of several, in order
		{"x", nil},
		{"frobnicate", nil},
		{"", nil},
	} {
		assert.Equal(t, tc.want, suggest(tc.word, names), "%q", tc.word)
	}
}

func TestOrList(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"a"}, `"a"`},
		{[]string{"a", "b"}, `"a" or "b"`},
		{[]string{"a", "b", "c"}, `"a", "b" or "c"`},
	} {
		assert.Equal(t, tc.want, orList(tc.names))
	}
}
