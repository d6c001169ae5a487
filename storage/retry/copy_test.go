package retry

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// TestNewKeepsCopierTruthful: New's result implements Multipart and
// ServerCopier exactly when the inner backend does, in every combination.
func TestNewKeepsCopierTruthful(t *testing.T) {
	f := newFake()
	cases := []struct {
		name       string
		inner      storage.Backend
		mp, copier bool
	}{
		{"both", f, true, true},
		{"multipart only", struct {
			storage.Backend
			storage.Multipart
		}{f, f}, true, false},
		{"copier only", struct {
			storage.Backend
			storage.ServerCopier
		}{f, f}, false, true},
		{"neither", struct{ storage.Backend }{f}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.inner, Policy{})
			_, mp := b.(storage.Multipart)
			_, sc := b.(storage.ServerCopier)
			assert.Equal(t, tc.mp, mp, "Multipart")
			assert.Equal(t, tc.copier, sc, "ServerCopier")
			_, ok := b.(storage.Checker)
			assert.True(t, ok, "Checker is always passed through")
		})
	}
}

func TestCopyRetriesByClass(t *testing.T) {
	unavailable := wrapErr("copy", storage.ErrUnavailable)
	cases := []struct {
		name     string
		faults   []error
		src      string
		cond     storage.Condition
		wantErr  error
		attempts int
		retried  bool // ErrRefusedAfterRetry
	}{
		{"transient failures are retried", []error{unavailable, unavailable}, "src", storage.Condition{}, nil, 3, false},
		{"a missing source is not", nil, "missing", storage.Condition{}, storage.ErrNotFound, 1, false},
		{"a refusal at once is just a refusal", []error{wrapErr("copy", storage.ErrPrecondition)}, "src",
			storage.IfAbsent(), storage.ErrPrecondition, 1, false},
		{"a refusal on a retry may be our own copy", []error{unavailable, wrapErr("copy", storage.ErrPrecondition)}, "src",
			storage.IfAbsent(), storage.ErrPrecondition, 2, true},
		{"exhausted", []error{unavailable, unavailable, unavailable, unavailable}, "src", storage.Condition{},
			storage.ErrUnavailable, 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.add("src", []byte("source bytes"))
			f.fail("copy", tc.faults...)
			b := New(f, testPolicy(&sleeper{})).(storage.ServerCopier)
			res, err := b.Copy(context.Background(), tc.src, "dst", storage.ObjectInfo{Condition: tc.cond})
			assert.Equal(t, tc.attempts, f.count("copy"))
			assert.Equal(t, tc.retried, errors.Is(err, ErrRefusedAfterRetry))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, int64(len("source bytes")), res.Size)
		})
	}
}
