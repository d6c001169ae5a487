package conf

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// minimal is the smallest valid config: S3 (Oregon) to OSS (Hangzhou),
// credentials from the environment.
var minimal = []string{
	"jobName=t1",
	"srcType=s3",
	"srcDomain=https://s3.us-west-2.amazonaws.com",
	"srcBucket=src",
	"destDomain=https://oss-cn-hangzhou.aliyuncs.com",
	"destBucket=dst",
}

// with returns minimal with lines added; a line "key=value" whose key is
// already in minimal replaces it, and "key" alone deletes it.
func with(lines ...string) string {
	out := append([]string(nil), minimal...)
	for _, l := range lines {
		k, _, hasEq := strings.Cut(l, "=")
		replaced := false
		for i, m := range out {
			if mk, _, _ := strings.Cut(m, "="); mk == k {
				if hasEq {
					out[i] = l
				} else {
					out = append(out[:i], out[i+1:]...)
				}
				replaced = true
				break
			}
		}
		if !replaced && hasEq {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func parse(t *testing.T, text string) (*Job, error) {
	t.Helper()
	return Parse(strings.NewReader(text), "job.cfg")
}

func mustParse(t *testing.T, text string) *Job {
	t.Helper()
	j, err := parse(t, text)
	require.NoError(t, err)
	return j
}

// problems splits a joined error into its lines, each an *Error.
func problems(t *testing.T, err error) []*Error {
	t.Helper()
	require.Error(t, err)
	var out []*Error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			var ce *Error
			require.True(t, errors.As(e, &ce), "%T is not *conf.Error: %v", e, e)
			out = append(out, ce)
		}
		return out
	}
	var ce *Error
	require.True(t, errors.As(err, &ce), "%T is not *conf.Error: %v", err, err)
	return append(out, ce)
}

// onlyProblem asserts exactly one problem, on key, of kind, containing msg.
func onlyProblem(t *testing.T, err error, key string, kind error, msg string) *Error {
	t.Helper()
	ps := problems(t, err)
	require.Len(t, ps, 1, "%v", err)
	require.Equal(t, key, ps[0].Key, "%v", err)
	require.ErrorIs(t, ps[0], kind)
	require.Contains(t, ps[0].Error(), msg)
	return ps[0]
}
