package storage_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
)

// lax is a store whose writes do something else with conditions than
// the local backend under it: the probe must notice.
type lax struct {
	*local.Backend
	// put and complete rewrite the condition a write arrives with, or
	// refuse it (a non-nil error) as a server refusing the header would.
	put, complete func(storage.Condition) (storage.Condition, error)
}

func (l lax) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	c, err := l.put(info.Condition)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	info.Condition = c
	return l.Backend.Put(ctx, key, body, info)
}

func (l lax) CompleteUpload(ctx context.Context, u storage.Upload, parts []storage.Part) (storage.ObjectInfo, error) {
	c, err := l.complete(u.Condition)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	u.Condition = c
	return l.Backend.CompleteUpload(ctx, u, parts)
}

func honour(c storage.Condition) (storage.Condition, error) { return c, nil }
func ignore(storage.Condition) (storage.Condition, error)   { return storage.Condition{}, nil }

// noIfMatch refuses if-match the way a server refusing the header does
// (a permanent error that is not ErrPrecondition).
func noIfMatch(c storage.Condition) (storage.Condition, error) {
	if !c.IfMatch.IsZero() {
		return c, fmt.Errorf("501 NotImplemented: If-Match")
	}
	return c, nil
}

// refuseAll refuses every conditional write, even one whose condition
// holds: enforcing nothing useful.
func refuseAll(c storage.Condition) (storage.Condition, error) {
	if !c.IsZero() {
		return c, fmt.Errorf("%w: refused whatever it is", storage.ErrPrecondition)
	}
	return c, nil
}

func TestProbeConditionsSeesWhatIsEnforced(t *testing.T) {
	cases := []struct {
		name          string
		put, complete func(storage.Condition) (storage.Condition, error)
		want          storage.Conditions
	}{
		{"everything enforced", honour, honour, storage.Conditions{PutIfAbsent: true, PutIfMatch: true, CompleteIfAbsent: true, CompleteIfMatch: true}},
		{"headers accepted and ignored", ignore, ignore, storage.Conditions{}},
		{"put enforced, complete ignored", honour, ignore, storage.Conditions{PutIfAbsent: true, PutIfMatch: true}},
		{"if-match refused by the server", noIfMatch, noIfMatch, storage.Conditions{PutIfAbsent: true, CompleteIfAbsent: true}},
		{"every conditional write refused", refuseAll, refuseAll, storage.Conditions{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lb, err := local.New(t.TempDir(), local.Options{})
			require.NoError(t, err)
			b := lax{Backend: lb, put: tc.put, complete: tc.complete}
			got, err := storage.ProbeConditions(t.Context(), b, "scratch/probe")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			var left []string
			require.NoError(t, b.List(t.Context(), "", "", func(o storage.ObjectInfo) error { left = append(left, o.Key); return nil }))
			assert.Empty(t, left, "the probe leaves no object behind")
			require.NoError(t, b.ListUploads(t.Context(), "", func(u storage.Upload) error { left = append(left, u.ID); return nil }))
			assert.Empty(t, left, "the probe leaves no upload behind")
			if tc.want != (storage.Conditions{PutIfAbsent: true, PutIfMatch: true, CompleteIfAbsent: true, CompleteIfMatch: true}) {
				assert.NotEmpty(t, got.Residual(), "a missing condition is reported")
			} else {
				assert.Empty(t, got.Residual())
			}
		})
	}
}
