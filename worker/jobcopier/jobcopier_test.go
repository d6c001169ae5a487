package jobcopier

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

func job(t *testing.T, src, dst string, lines ...string) *conf.Job {
	text := fmt.Sprintf("jobName=j\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestPrefix=%s/\n%s\n", src, dst, strings.Join(lines, "\n"))
	j, err := conf.Parse(strings.NewReader(text), "j.cfg")
	require.NoError(t, err)
	return j
}

// The job's settings reach the copier, and a local destination directory
// that does not exist yet is created.
func TestNewCopiesWithTheJobsSettings(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "k"), []byte("hello"), 0o644))
	for _, tc := range []struct {
		verify string
		want   task.Method
	}{
		{"reread", task.MethodReread},
		{"off", task.MethodSize},
	} {
		t.Run(tc.verify, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "new", "dir")
			cp, err := New(t.Context(), job(t, src, dst, "verify="+tc.verify), worker.Options{}, nil)
			require.NoError(t, err)
			res, err := cp.Copy(t.Context(), "j", task.Object{Key: "k", Dest: "k", Size: 5})
			require.NoError(t, err)
			require.Equal(t, task.StatusVerified, res.Status, res.Reason)
			assert.Equal(t, tc.want, res.Method)
			got, err := os.ReadFile(filepath.Join(dst, "k"))
			require.NoError(t, err)
			assert.Equal(t, "hello", string(got))
		})
	}
}

// A missing local source is an error naming it, never created.
func TestNewMissingSource(t *testing.T) {
	src := filepath.Join(t.TempDir(), "typo")
	_, err := New(t.Context(), job(t, src, t.TempDir()), worker.Options{}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "source")
	assert.Contains(t, err.Error(), src)
	assert.NoDirExists(t, src)
}
