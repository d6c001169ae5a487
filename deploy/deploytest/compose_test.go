package deploytest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompose: the try-out decodes strictly, its cross-references hold,
// and it has what it promises: a master, three workers and an S3 server.
func TestCompose(t *testing.T) {
	dir := composeDir(t)
	c, err := LoadCompose(filepath.Join(dir, "compose.yaml"))
	require.NoError(t, err)
	requireNoProblems(t, c.Check(dir))

	master, ok := c.Services["master"]
	require.True(t, ok, "no master service")
	assert.Equal(t, "master", firstArg(master.Command))
	assert.NotNil(t, master.Build, "the master service builds the image from the repo's Dockerfile")

	worker, ok := c.Services["worker"]
	require.True(t, ok, "no worker service")
	assert.Equal(t, "worker", firstArg(worker.Command))
	require.NotNil(t, worker.Deploy)
	require.NotNil(t, worker.Deploy.Replicas)
	assert.Equal(t, 3, *worker.Deploy.Replicas)

	s3, ok := c.Services["s3"]
	require.True(t, ok, "no s3 service")
	assert.Contains(t, s3.Image, "versity/versitygw")

	for name, s := range c.Services {
		if IsFerryImage(s.Image) {
			assert.True(t, s.ReadOnly, "service %s: read_only", name)
			assert.Equal(t, []string{"ALL"}, s.CapDrop, "service %s: cap_drop", name)
		}
	}
}

// TestComposeRejectsBrokenReferences writes a compose file with one broken
// reference of each kind and expects each to be reported.
func TestComposeRejectsBrokenReferences(t *testing.T) {
	dir := t.TempDir()
	text := `services:
  a:
    image: ferry:local
    volumes: [undeclared:/data, ./missing:/x]
    secrets: [nosecret]
    depends_on:
      ghost: {condition: service_started}
      b: {condition: service_ready}
  b:
    build: {context: ./nodir}
`
	path := filepath.Join(dir, "compose.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	c, err := LoadCompose(path)
	require.NoError(t, err)
	msg := errors.Join(c.Check(dir)...).Error()
	for _, want := range []string{
		"service a: volume undeclared is not declared",
		"service a: bind mount ./missing:/x",
		"service a: secret nosecret is not declared",
		"service a: depends_on ghost: no such service",
		`service a: depends_on b: condition "service_ready"`,
		"service b: build context",
	} {
		assert.Contains(t, msg, want)
	}

	require.NoError(t, os.WriteFile(path, []byte("services:\n  a:\n    image: x\n    dependson: [b]\n"), 0o600))
	_, err = LoadCompose(path)
	require.ErrorContains(t, err, `unknown field "dependson"`)
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
