package backends

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpecNeverPrintsSecrets(t *testing.T) {
	s := Spec{Type: S3, Endpoint: "https://h", Bucket: "b", AccessKey: "AKIDSECRETID", SecretKey: "topsecretvalue", SessionToken: "tokentokentoken"}
	holder := struct{ Src Spec }{s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{s, &s, holder, []Spec{s}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, "topsecretvalue", verb)
			assert.NotContains(t, out, "tokentokentoken", verb)
			assert.NotContains(t, out, "AKIDSECRETID", verb)
		}
	}
	assert.Equal(t, `s3 bucket "b" prefix "" at https://h`, s.String())
}

func TestOpenUnknownType(t *testing.T) {
	_, err := Open(t.Context(), Spec{Type: "qiniu"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"qiniu" is not supported (supported: local, s3, oss)`)
}

func TestOpenLocalMissingRoot(t *testing.T) {
	_, err := Open(t.Context(), Spec{Type: Local, Root: "/nonexistent/ferry-root"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/ferry-root")
}
