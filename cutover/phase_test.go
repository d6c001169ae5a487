package cutover

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	t1  = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	now = t1.Add(24 * time.Hour)
)

func TestStartRecordsT1OnceAndResumesOnlyTheFullCopy(t *testing.T) {
	unknown := func() (bool, error) { return false, nil }
	tests := []struct {
		name    string
		prev    *State
		known   func() (bool, error)
		wantErr string
		wantT1  time.Time
	}{
		{name: "new job: T1 is now, in whole seconds", known: unknown, wantT1: now},
		{name: "resumed: T1 stays", prev: &State{Job: "j", T1: t1, Phase: PhaseCopying}, wantT1: t1},
		{name: "job with passes already", known: func() (bool, error) { return true, nil }, wantErr: "already has passes"},
		{name: "tracker unreadable", known: func() (bool, error) { return false, errors.New("locked") }, wantErr: "locked"},
		{name: "full copy done", prev: &State{Job: "j", T1: t1, Phase: PhaseCopied}, wantErr: "next: `ferry cutover switch j --at T2`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, job := parseJob(t)
			c, err := Start(tt.prev, job, "/abs/j.cfg", "/data", tt.known, now.Add(300*time.Millisecond))
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, c.T1.Equal(tt.wantT1), "T1 %s", c.T1)
			assert.Equal(t, PhaseCopying, c.Phase)
			assert.Equal(t, "/abs/j.cfg", c.Config)
			assert.Equal(t, job.Dest.Bucket, c.DestBucket)
		})
	}
}

func TestSwitchAtRecordsT2Once(t *testing.T) {
	t2 := t1.Add(time.Hour)
	tests := []struct {
		name, at string
		state    State
		wantErr  string
		wantT2   time.Time
	}{
		{name: "full copy not clean", at: "1714525200", state: State{Phase: PhaseCopying}, wantErr: "has not ended clean"},
		{name: "first switch needs --at", state: State{Phase: PhaseCopied}, wantErr: "give T2"},
		{name: "first switch", at: "2024-05-01T01:00:00Z", state: State{Phase: PhaseCopied}, wantT2: t2},
		{name: "again without --at", state: State{Phase: PhaseSwitching, T2: t2}, wantT2: t2},
		{name: "again with the same T2", at: "2024-05-01T01:00:00Z", state: State{Phase: PhaseSwitched, T2: t2}, wantT2: t2},
		{name: "a different T2", at: "2024-05-01T02:00:00Z", state: State{Phase: PhaseSwitching, T2: t2}, wantErr: "already recorded"},
		{name: "T2 not after T1", at: "2024-05-01T00:00:00Z", state: State{Phase: PhaseCopied}, wantErr: "not after T1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.state
			c.Job, c.T1 = "j", t1
			err := c.SwitchAt(tt.at, now)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, c.T2.Equal(tt.wantT2), "T2 %s", c.T2)
		})
	}
}

// A pass moves its phase on only when it ended clean, and the report
// waits for a pass up to T2.
func TestPhasesMoveOnCleanPasses(t *testing.T) {
	_, job := parseJob(t)
	c := &State{Job: "j", T1: t1, Phase: PhaseCopying}
	assert.ErrorIs(t, c.Reportable(), ErrPhase)
	c.PassEnded(1, false, now)
	assert.Equal(t, PhaseCopying, c.Phase)
	c.PassEnded(2, true, now)
	assert.Equal(t, PhaseCopied, c.Phase)
	assert.Equal(t, uint64(2), c.FullPass)

	require.NoError(t, c.Switching(job, now))
	assert.Equal(t, PhaseSwitching, c.Phase)
	c.PassEnded(3, false, now)
	assert.Equal(t, PhaseSwitching, c.Phase)
	assert.Equal(t, uint64(3), c.SwitchPass)
	assert.NoError(t, c.Reportable())
	c.PassEnded(0, true, now)
	assert.Equal(t, PhaseSwitched, c.Phase)
	assert.Equal(t, uint64(3), c.SwitchPass, "no pass started: the last one stays")
	assert.Equal(t, uint64(2), c.FullPass)

	other := &State{Job: "other", Config: "/x.cfg"}
	assert.ErrorContains(t, other.Switching(job, now), `now names job "j", the cutover is of "other"`)
}
