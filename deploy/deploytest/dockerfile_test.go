package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerfile checks what can be checked without a container runtime
// (none can pull base images here): the build stage's Go matches go.mod,
// it builds with the same `make static` that make and CI run, and the
// final stage is non-root, shell-less and starts /ferry.
func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		require.NoError(t, err)
		return string(b)
	}
	df, gomod, makefile, ci := read("Dockerfile"), read("go.mod"), read("Makefile"), read(".ci/run")

	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	require.NotNil(t, goLine, "go.mod has no go line")
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	require.Len(t, from, 2, "a build stage and a final stage")
	assert.Equal(t, "golang:"+goLine[1], from[0][1], "the build stage's Go is go.mod's")
	assert.Regexp(t, `^gcr\.io/distroless/static[\w-]*:nonroot$`, from[1][1])

	for _, tc := range []struct{ name, file, re string }{
		{"build stage runs make static", df, `(?m)^RUN make static\b`},
		{"final stage runs as non-root", df, `(?m)^USER 65532`},
		{"entrypoint is the binary", df, `(?m)^ENTRYPOINT \["/ferry"\]`},
		{"data dir is a volume", df, `(?m)^VOLUME \["/data"\]`},
		{"gRPC and HTTP ports", df, `(?m)^EXPOSE 7443 9090$`},
		{"make static is static", makefile, `(?m)^static:\n\tCGO_ENABLED=0 \$\(GO\) build -trimpath .*-o bin/ferry-static ./cmd/ferry$`},
		{"CI runs make static", ci, `(?m)^make static$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Regexp(t, tc.re, tc.file)
		})
	}

	ignore := read(".dockerignore")
	for _, p := range []string{".git", ".cache", "bin", "deploy/compose/secrets"} {
		assert.Contains(t, strings.Fields(ignore), p, ".dockerignore keeps %s out of the build context", p)
	}
}
