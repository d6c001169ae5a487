package retry

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func fakeWithKeys(n int) (*fake, []string) {
	f := newFake()
	var keys []string
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		f.add(k, []byte(k))
		keys = append(keys, k)
	}
	return f, keys
}

func collect(t *testing.T, b storage.Backend, startAfter string) ([]string, error) {
	t.Helper()
	var got []string
	err := b.List(context.Background(), "", startAfter, func(oi storage.ObjectInfo) error {
		got = append(got, oi.Key)
		return nil
	})
	return got, err
}

// An interrupted listing resumes after the last key fn received: every key
// once, in order, no gap.
func TestListResume(t *testing.T) {
	cases := []struct {
		name       string
		startAfter string
		faults     []fault
		wantFrom   []string // startAfter of each inner List call
	}{
		{"two breaks", "", []fault{{3, storage.ErrUnavailable}, {2, syscall.ECONNRESET}}, []string{"", "k02", "k04"}},
		{"break before first key", "", []fault{{0, storage.ErrThrottled}}, []string{"", ""}},
		{"break after last key", "", []fault{{10, io.ErrUnexpectedEOF}}, []string{"", "k09"}},
		{"resumed caller", "k04", []fault{{1, storage.ErrUnavailable}, {0, storage.ErrUnavailable}}, []string{"k04", "k05", "k05"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, keys := fakeWithKeys(10)
			f.script("list", c.faults...)
			s := &sleeper{}
			got, err := collect(t, New(f, testPolicy(s)), c.startAfter)
			require.NoError(t, err)
			var want []string
			for _, k := range keys {
				if k > c.startAfter {
					want = append(want, k)
				}
			}
			assert.Equal(t, want, got)
			assert.Equal(t, c.wantFrom, f.lists)
			assert.Len(t, s.recorded(), len(c.faults))
		})
	}
}

// The budget counts failures in a row without a new key: a long listing
// with many spread-out hiccups completes, a stuck one gives up.
func TestListBudget(t *testing.T) {
	t.Run("progress between failures", func(t *testing.T) {
		f, keys := fakeWithKeys(10)
		for range 8 { // twice MaxAttempts, each after one new key
			f.script("list", fault{1, storage.ErrUnavailable})
		}
		s := &sleeper{}
		got, err := collect(t, New(f, testPolicy(s)), "")
		require.NoError(t, err)
		assert.Equal(t, keys, got)
		// The backoff restarts too: every wait is the first one's.
		for _, w := range s.recorded() {
			assert.Equal(t, s.recorded()[0], w)
		}
	})
	t.Run("no progress", func(t *testing.T) {
		f, keys := fakeWithKeys(10)
		f.script("list", fault{2, storage.ErrUnavailable})
		for range 10 {
			f.script("list", fault{0, storage.ErrUnavailable})
		}
		got, err := collect(t, New(f, testPolicy(&sleeper{})), "")
		var ex *ExhaustedError
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, 4, ex.Attempts)
		assert.Equal(t, "list", ex.Op)
		assert.ErrorIs(t, err, storage.ErrUnavailable)
		assert.Equal(t, keys[:2], got)
		assert.Equal(t, 4, f.count("list"))
	})
	t.Run("permanent after progress", func(t *testing.T) {
		f, keys := fakeWithKeys(10)
		f.script("list", fault{2, storage.ErrUnavailable}, fault{1, storage.ErrAccessDenied})
		got, err := collect(t, New(f, testPolicy(&sleeper{})), "")
		require.ErrorIs(t, err, storage.ErrAccessDenied)
		assert.Equal(t, keys[:3], got)
		assert.Equal(t, 2, f.count("list"))
	})
}

// An error from fn is the caller's: returned as is and never retried, even
// one that Classify would call retryable.
func TestListFnErrorNotRetried(t *testing.T) {
	f, _ := fakeWithKeys(10)
	stop := fmt.Errorf("downstream: %w", storage.ErrThrottled)
	var n int
	err := New(f, testPolicy(&sleeper{})).List(context.Background(), "", "", func(storage.ObjectInfo) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	assert.Same(t, stop, err)
	assert.Equal(t, 1, f.count("list"))
	assert.Equal(t, 3, n)
}

// sloppyList ignores startAfter, breaking the contract; the wrapper still
// never hands fn a key twice.
type sloppyList struct{ *fake }

func (s sloppyList) List(ctx context.Context, prefix, _ string, fn storage.ListFunc) error {
	return s.fake.List(ctx, prefix, "", fn)
}

func TestListNoDuplicatesFromSloppyBackend(t *testing.T) {
	f, keys := fakeWithKeys(6)
	f.script("list", fault{4, storage.ErrUnavailable})
	got, err := collect(t, New(sloppyList{f}, testPolicy(&sleeper{})), "")
	require.NoError(t, err)
	assert.Equal(t, keys, got)
}

func TestListUploads(t *testing.T) {
	ctx := context.Background()
	newUploads := func() (*fake, []storage.Upload) {
		f := newFake()
		var us []storage.Upload
		for _, k := range []string{"a", "b", "c"} {
			u, err := f.CreateUpload(ctx, k, storage.ObjectInfo{})
			require.NoError(t, err)
			us = append(us, u)
		}
		return f, us
	}

	t.Run("restart delivers each upload once", func(t *testing.T) {
		f, us := newUploads()
		f.script("list-uploads", fault{2, storage.ErrUnavailable}, fault{0, storage.ErrUnavailable})
		var got []storage.Upload
		m := New(f, testPolicy(&sleeper{})).(storage.Multipart)
		require.NoError(t, m.ListUploads(ctx, "", func(u storage.Upload) error {
			got = append(got, u)
			return nil
		}))
		assert.Equal(t, us, got)
		assert.Equal(t, 3, f.count("list-uploads"))
	})

	t.Run("fn error returned unchanged", func(t *testing.T) {
		f, _ := newUploads()
		stop := fmt.Errorf("sweep: %w", storage.ErrUnavailable)
		m := New(f, testPolicy(&sleeper{})).(storage.Multipart)
		err := m.ListUploads(ctx, "", func(storage.Upload) error { return stop })
		assert.Same(t, stop, err)
		assert.Equal(t, 1, f.count("list-uploads"))
	})
}
