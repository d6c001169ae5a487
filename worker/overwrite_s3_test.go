package worker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
)

// Issue 11: with isSkipExistFile=true, an object the application wrote at
// the destination after the cutover, of another size than the older
// source copy, was overwritten by it (seen failing before the fix: the
// copy was verified and the destination held the old bytes).
// isSkipExistFile=true now means if-source-newer (conf).
func TestNewerDestinationOfAnotherSizeIsKept(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	dir := t.TempDir()
	src, err := local.New(dir, local.Options{})
	require.NoError(t, err)
	dst := s3Bucket(t, srv, "dst")
	old := randomBytes(1000, 71)
	putObj(t, src, "k", old)
	hourAgo := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "k"), hourAgo, hourAgo))
	written := randomBytes(1500, 72) // the application's, after T2
	putObj(t, dst, "k", written)

	c := newCopier(t, Options{Src: src, Dst: dst, Settings: task.CopySettings{Overwrite: task.OverwriteIfSourceNewer}})
	res, err := c.Copy(t.Context(), "job", object(t, src, "k", "k"))
	require.NoError(t, err)
	assert.Equal(t, task.StatusSkipped, res.Status, res.Reason)
	assert.Equal(t, task.OutcomeKept, res.Outcome)
	assert.Equal(t, ReasonNewer, res.Reason)
	sameBytes(t, written, getObj(t, dst, "k"))
}
