package plan

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
)

// files lists the regular files under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// TestPlanLocal plans a local-to-local job end to end in-process: the
// probe copies with the real copier, measures a rate, and leaves nothing
// at the destination; the read-only probe writes nothing at all.
func TestPlanLocal(t *testing.T) {
	src := tree(t, map[string]int{"a/1": 100, "a/2": 5000, "b/big": 3 * mib, "b/big2": 2 * mib})
	dst := t.TempDir()
	job, err := conf.Parse(strings.NewReader(strings.Join([]string{
		"jobName=p", "srcType=local", "srcPrefix=" + src, "destType=local", "destPrefix=" + dst,
		"multipartUploadThreshold=2m", "multipartUploadPartSize=1m",
	}, "\n")), "p.cfg")
	require.NoError(t, err)
	for _, readOnly := range []bool{false, true} {
		r, err := Plan(t.Context(), job, Options{Probe: 200 * time.Millisecond, ProbeReadOnly: readOnly,
			Concurrency: 4, Utilization: 0.8, Deadline: time.Hour, Seed: 3})
		require.NoError(t, err)
		assert.Equal(t, int64(4), r.Objects)
		assert.Equal(t, int64(100+5000+5*mib), r.Bytes)
		assert.Equal(t, int64(2), r.Parts.MultipartObjects)
		// A plan that writes asks whether the destination enforces
		// create-only writes (a local one does): the copier then writes
		// the two single-part objects without a HEAD. A read-only plan
		// writes nothing, so counts a HEAD for every object.
		heads := int64(2)
		if readOnly {
			heads = 4
		}
		assert.Equal(t, Requests{HeadDest: heads, HeadSrc: 2, Get: 2 + 5, Put: 2, CreateUpload: 2, UploadPart: 5, Complete: 2}, r.Requests)
		require.NotNil(t, r.Probe)
		assert.Positive(t, r.Probe.Small.Objects)
		assert.Positive(t, r.Probe.Large.Objects)
		assert.Positive(t, r.Rate.BytesPerSec)
		assert.Equal(t, 1, r.NodesNeeded)
		assert.Zero(t, r.Probe.Leftover, r.Probe.CleanupError)
		assert.Empty(t, files(t, dst), "read-only %v: the probe's copies are removed", readOnly)
		if readOnly {
			assert.Equal(t, "probe-read-only", r.RateSource)
			assert.Empty(t, r.Probe.Scratch)
		} else {
			assert.Equal(t, "probe", r.RateSource)
			assert.True(t, strings.HasPrefix(r.Probe.Scratch, ".ferry-plan-"), r.Probe.Scratch)
		}
	}
}

func TestPlanEmptySource(t *testing.T) {
	job, err := conf.Parse(strings.NewReader(strings.Join([]string{
		"jobName=p", "srcType=local", "srcPrefix=" + t.TempDir(), "destType=local", "destPrefix=" + t.TempDir(),
	}, "\n")), "p.cfg")
	require.NoError(t, err)
	r, err := Plan(t.Context(), job, Options{Probe: time.Second, Concurrency: 4, Utilization: 0.8, Deadline: time.Hour})
	require.NoError(t, err)
	assert.Zero(t, r.Objects)
	assert.Equal(t, "none", r.RateSource)
	assert.Nil(t, r.Probe)
	assert.Equal(t, 1, r.NodesNeeded)
	assert.Zero(t, r.ExpectedSeconds)
}
