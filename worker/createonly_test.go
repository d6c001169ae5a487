package worker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

// Where the destination enforces create-only writes, an absent object is
// written without a look first; anything already there refuses the write,
// and the copier then looks and decides exactly as a copier that looked
// first: same status, outcome, reason and destination bytes. With policy
// always it looks first, as before.
func TestCreateOnlyWithoutLook(t *testing.T) {
	data := randomBytes(5000, 7)
	app := []byte("the application's")
	for _, tc := range []struct {
		name      string
		policy    task.OverwritePolicy
		there     []byte // in the destination before the copy
		wantStats int    // destination Stats by the blind copier
		wantBytes []byte
	}{
		{"absent: one write, no look", task.OverwriteNever, nil, 0, data},
		{"same bytes there: refused, then looked at", task.OverwriteIfSourceNewer, data, 1, data},
		{"another object, never: refused, kept", task.OverwriteNever, app, 1, app},
		{"another object, if-different: refused, replaced", task.OverwriteIfDifferent, app, 1, data},
		{"policy always: looks first", task.OverwriteAlways, nil, 1, data},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(enforced bool) (task.Result, *hooked, int) {
				src, dst := newLocal(t), newLocal(t)
				putObj(t, src, "k", data)
				if tc.there != nil {
					putObj(t, dst, "k", tc.there)
				}
				h := hook(dst)
				stats := 0
				h.stat = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
					stats++
					return info, err
				}
				c := newCopier(t, Options{Src: src, Dst: h, CreateOnlyEnforced: enforced, Settings: task.CopySettings{Overwrite: tc.policy}})
				res, err := c.Copy(t.Context(), "job", object(t, src, "k", "k"))
				require.NoError(t, err)
				sameBytes(t, tc.wantBytes, getObj(t, dst, "k"))
				return res, h, stats
			}
			want, _, _ := run(false)
			got, h, stats := run(true)
			assert.Equal(t, want.Status, got.Status, got.Reason)
			assert.Equal(t, want.Outcome, got.Outcome)
			assert.Equal(t, want.Reason, got.Reason)
			assert.Equal(t, want.HasCRC64, got.HasCRC64)
			assert.Equal(t, tc.wantStats, stats, "destination looks")
			if tc.there == nil {
				requireVerified(t, got, nil, data)
				assert.Equal(t, int64(1), h.puts.Load(), "one write")
			}
		})
	}
}

// Without the store's word that it enforces create-only writes, every
// object is looked at first.
func TestLooksFirstUnlessCreateOnlyEnforced(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	data := randomBytes(100, 8)
	putObj(t, src, "k", data)
	h := hook(dst)
	stats := 0
	h.stat = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		stats++
		return info, err
	}
	res, err := newCopier(t, Options{Src: src, Dst: h}).Copy(t.Context(), "job", object(t, src, "k", "k"))
	requireVerified(t, res, err, data)
	assert.Equal(t, 1, stats)
}

// A destination that refuses many blind writes (a rerun over a full one)
// makes the copier look first again.
func TestBlindWritesStopWhenMostlyRefused(t *testing.T) {
	var b blindStats
	for range blindWindow - 1 {
		b.writes.Add(1)
		b.refused.Add(1)
	}
	assert.True(t, b.worth(), "too few writes to judge")
	b.writes.Add(1)
	assert.False(t, b.worth(), "every one refused")
	var ok blindStats
	ok.writes.Add(1000)
	ok.refused.Add(100)
	assert.True(t, ok.worth(), "one in ten refused still pays")
}

// A blind write that landed with its answer lost, then refused when the
// retry layer resent it, met our own copy: verified. Someone else's
// object there is looked at and, under the default policy, kept.
func TestBlindWriteRefusedAfterRetry(t *testing.T) {
	app := []byte("the application's")
	for _, tc := range []struct {
		name   string
		theirs bool
	}{{"our own first attempt: copied", false}, {"someone else's object: kept", true}} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newLocal(t), newLocal(t)
			data := randomBytes(3000, 94)
			putObj(t, src, "k", data)
			h := hook(dst)
			h.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
				if err != nil {
					return info, err
				}
				if tc.theirs {
					putObj(t, dst, "k", app)
				}
				return storage.ObjectInfo{}, fmt.Errorf("put: %w: %w", retry.ErrRefusedAfterRetry, storage.ErrPrecondition)
			}
			res, err := newCopier(t, Options{Src: src, Dst: h, CreateOnlyEnforced: true}).Copy(t.Context(), "job", object(t, src, "k", "k"))
			require.NoError(t, err)
			if tc.theirs {
				assert.Equal(t, task.OutcomeKept, res.Outcome, res.Reason)
				sameBytes(t, app, getObj(t, dst, "k"))
				return
			}
			requireVerified(t, res, err, data)
			sameBytes(t, data, getObj(t, dst, "k"))
		})
	}
}
