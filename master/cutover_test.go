package master

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/task"
)

// waitCutover waits (real time) until the cutover's pass has ended.
func (h *harness) waitCutover(job string) CutoverRun {
	h.t.Helper()
	var r CutoverRun
	require.Eventually(h.t, func() bool {
		var err error
		r, err = h.m.CutoverStatus(job)
		return err == nil && !r.Running
	}, 10*time.Second, 5*time.Millisecond, "cutover pass of %s", job)
	return r
}

// The cutover on a master: T1 recorded and the full copy submitted, the
// phase read from the tracker when the pass ends, T2 recorded and the
// pass up to T2 submitted with the derived config, then the report.
func TestCutoverOnTheMaster(t *testing.T) {
	h := newHarness(t)
	h.register("w1")
	cfg := localJob(t, "cut", 7)

	r, notes, err := h.m.CutoverStart(t.Context(), cfg, "cut.cfg")
	require.NoError(t, err)
	assert.Contains(t, notes, "started pass 1")
	assert.True(t, r.Running)
	assert.True(t, r.T1.Equal(t0))
	assert.Equal(t, cutover.PhaseCopying, r.Phase)
	_, err = cutover.Load(h.dir, "cut")
	require.NoError(t, err, "the state lives in the master's data dir")

	_, _, err = h.m.CutoverSwitch(t.Context(), "cut", strconv.FormatInt(t0.Unix()+1, 10))
	assert.ErrorIs(t, err, ErrJobState, "not while the full copy runs")
	_, err = h.m.CutoverReport(t.Context(), "cut", 0)
	assert.ErrorIs(t, err, ErrJobState, "no pass up to T2 yet")

	h.waitScanned("cut")
	h.drain("w1")
	r = h.waitCutover("cut")
	assert.Equal(t, cutover.PhaseCopied, r.Phase)
	assert.Equal(t, uint64(1), r.FullPass)

	_, _, err = h.m.CutoverStart(t.Context(), cfg, "cut.cfg")
	assert.ErrorContains(t, err, "the full copy of this cutover is done")

	// One object changes at the source before T2: the pass up to T2 has a
	// shard for a worker, so it runs until the worker is done. The source
	// files carry the real time, the clock moves past it.
	src := strings.TrimPrefix(regexp.MustCompile(`srcPrefix=(.*)`).FindString(cfg), "srcPrefix=")
	require.NoError(t, os.WriteFile(filepath.Join(src, "new"), []byte("n"), 0o600))
	t2 := time.Now().Unix() + 1
	h.clock.Add(time.Since(t0) + time.Hour)
	_, _, err = h.m.CutoverSwitch(t.Context(), "cut", "")
	assert.ErrorContains(t, err, "give T2")
	r, _, err = h.m.CutoverSwitch(t.Context(), "cut", strconv.FormatInt(t2, 10))
	require.NoError(t, err)
	assert.Equal(t, cutover.PhaseSwitching, r.Phase)
	assert.Equal(t, uint64(2), r.SwitchPass)
	saved, _, err := h.m.files.readConfig("cut")
	require.NoError(t, err)
	assert.Contains(t, saved, "importUntil="+strconv.FormatInt(t2, 10), "the pass up to T2 runs the derived config")

	running, err := h.m.CutoverReport(t.Context(), "cut", 0)
	require.NoError(t, err)
	assert.False(t, running.OK)
	require.NotEmpty(t, running.Other)
	assert.Contains(t, running.Other[0].Reason, "pass 2 still running")

	h.waitScanned("cut")
	h.drain("w1")
	r = h.waitCutover("cut")
	assert.Equal(t, cutover.PhaseSwitched, r.Phase)
	rep, err := h.m.CutoverReport(t.Context(), "cut", 0)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep)
	assert.Equal(t, int64(8), rep.Copied)
	assert.Equal(t, int64(1), rep.CopiedInPass)
	assert.Equal(t, uint64(2), rep.Pass)

	_, _, err = h.m.CutoverSwitch(t.Context(), "cut", strconv.FormatInt(t2+1, 10))
	assert.ErrorContains(t, err, "T2 is already recorded")
}

func TestCutoverStartRefusals(t *testing.T) {
	tests := []struct {
		name, extra string
		wantErr     error
		wantMsg     string
	}{
		{"a policy that can clobber", "overwritePolicy=always", ErrInvalid, "overwritePolicy=always can replace"},
		{"a window", "importSince=1714525200", ErrInvalid, "set by the cutover itself"},
		{"deletes", "deleteExtraneous=true", ErrInvalid, "a cutover never deletes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, _, err := h.m.CutoverStart(t.Context(), localJob(t, "cut", 1, tt.extra), "cut.cfg")
			assert.ErrorIs(t, err, tt.wantErr)
			assert.ErrorContains(t, err, tt.wantMsg)
		})
	}
	t.Run("a job with passes already", func(t *testing.T) {
		h := newHarness(t)
		h.submit(localJob(t, "cut", 1))
		_, _, err := h.m.CutoverStart(t.Context(), localJob(t, "cut", 1), "cut.cfg")
		assert.ErrorIs(t, err, ErrJobState)
		assert.ErrorContains(t, err, "already has passes")
	})
	t.Run("status of no cutover", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.m.CutoverStatus("nosuch")
		assert.ErrorIs(t, err, ErrUnknownJob)
	})
}

// A full copy that ends with failures leaves the cutover copying, no
// longer running; start again runs a new pass and keeps T1.
func TestCutoverStartResumesAfterFailures(t *testing.T) {
	h := newHarness(t)
	h.register("w1")
	cfg := localJob(t, "cut", 3)
	_, _, err := h.m.CutoverStart(t.Context(), cfg, "cut.cfg")
	require.NoError(t, err)
	h.waitScanned("cut")
	for _, g := range h.lease("w1", 4) {
		res := verified(g.Objects)
		res[0].Status, res[0].Method, res[0].Reason = task.StatusFailed, "", "boom"
		require.NoError(t, h.m.Report(t.Context(), "w1", g.Ref(), res))
		_, err := h.m.Ack(t.Context(), "w1", g.Ref())
		require.NoError(t, err)
	}
	r := h.waitCutover("cut")
	assert.Equal(t, cutover.PhaseCopying, r.Phase, "failures: the full copy is not done")
	assert.Equal(t, uint64(1), r.FullPass)

	h.clock.Add(time.Minute)
	r, notes, err := h.m.CutoverStart(t.Context(), cfg, "cut.cfg")
	require.NoError(t, err)
	assert.Contains(t, notes, "started pass 2")
	assert.True(t, r.T1.Equal(t0), "T1 stays")
	assert.Equal(t, uint64(2), r.FullPass)
	h.waitScanned("cut")
	h.drain("w1")
	r = h.waitCutover("cut")
	assert.Equal(t, cutover.PhaseCopied, r.Phase)
}
