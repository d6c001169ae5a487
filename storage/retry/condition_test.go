package retry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/storage/retry"
)

// lostAnswer stores the first Put and then fails it as a reset would
// after the store had written: the caller cannot know it succeeded.
type lostAnswer struct {
	*local.Backend
	puts int
}

func (l *lostAnswer) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	l.puts++
	res, err := l.Backend.Put(ctx, key, body, info)
	if l.puts == 1 && err == nil {
		return storage.ObjectInfo{}, fmt.Errorf("%w: connection reset reading the answer", storage.ErrUnavailable)
	}
	return res, err
}

func TestConditionalWriteRefusedOnRetry(t *testing.T) {
	noSleep := retry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
	cases := []struct {
		name        string
		existing    bool // the key holds someone else's object before the write
		lost        bool // the first attempt stored, and its answer was lost
		wantRetried bool // ErrRefusedAfterRetry
	}{
		{"refused at once: someone else's object", true, false, false},
		{"refused on the retry: maybe our own", false, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lb, err := local.New(t.TempDir(), local.Options{})
			require.NoError(t, err)
			if tc.existing {
				_, err := lb.Put(t.Context(), "k", bytes.NewReader([]byte("theirs")), storage.ObjectInfo{Size: 6})
				require.NoError(t, err)
			}
			inner := &lostAnswer{Backend: lb}
			if !tc.lost {
				inner.puts = 1 // no lost answer
			}
			b := retry.New(inner, noSleep)
			_, err = b.Put(t.Context(), "k", bytes.NewReader([]byte("ours")), storage.ObjectInfo{Size: 4, Condition: storage.IfAbsent()})
			require.ErrorIs(t, err, storage.ErrPrecondition)
			assert.Equal(t, tc.wantRetried, errors.Is(err, retry.ErrRefusedAfterRetry))
			assert.Equal(t, storage.Permanent, storage.Classify(err))
		})
	}
}
