package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilter(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"p"}`,
		`{"Action":"run","Package":"p","Test":"TestOK"}`,
		`{"Action":"output","Package":"p","Test":"TestOK","Output":"=== RUN   TestOK\n"}`,
		`{"Action":"output","Package":"p","Test":"TestOK","Output":"    ok_test.go:9: chatty log\n"}`,
		`{"Action":"output","Package":"p","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestOK"}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"=== RUN   TestBad\n"}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"    bad_test.go:3: want 1, got 2\n"}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestBad"}`,
		`{"Action":"output","Package":"p","Test":"TestNoServer","Output":"    s_test.go:5: no server\n"}`,
		`{"Action":"output","Package":"p","Test":"TestNoServer","Output":"--- SKIP: TestNoServer (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestNoServer"}`,
		`{"Action":"output","Package":"p","Output":"PASS\n"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}`,
		`{"Action":"fail","Package":"p"}`,
		`{"ImportPath":"q","Action":"build-output","Output":"q/x.go:1:1: syntax error\n"}`,
		`# plain stderr line`,
		`{"Action":"output","Package":"r","Output":"ok  \tr\t0.02s\n"}`,
	}, "\n")
	var out strings.Builder
	require.NoError(t, filter(strings.NewReader(in), &out))
	assert.Equal(t, strings.Join([]string{
		"    bad_test.go:3: want 1, got 2",
		"--- FAIL: TestBad (0.00s)",
		"    s_test.go:5: no server",
		"--- SKIP: TestNoServer (0.00s)",
		"FAIL\tp\t0.01s",
		"q/x.go:1:1: syntax error",
		"# plain stderr line",
		"ok  \tr\t0.02s",
	}, "\n")+"\n", out.String())
}
