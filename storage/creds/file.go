package creds

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ferry-migrate/ferry/storage"
)

// fileCheckEvery is how often a credentials file is looked at when what it
// holds does not expire sooner: keys rotated by rewriting the file are in
// use within this time, without inotify.
const fileCheckEvery = 10 * time.Second

// file reads credentials from a JSON file (the command's format) that some
// other process keeps fresh (a sidecar, a cron job, an operator rotating
// static keys). It is read again when its size or modification time
// changes; otherwise the last reading is reused.
type file struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	size  int64
	mtime time.Time
	last  aws.Credentials
	read  bool
}

func newFile(path string, log *slog.Logger) *file {
	return &file{path: path, log: log, now: time.Now}
}

func (f *file) name() string { return fmt.Sprintf("credentials file %s", f.path) }

// Retrieve returns the file's credentials, re-reading it if it changed.
// The answer expires at the next check (fileCheckEvery) or ahead of the
// credentials' own expiry, whichever is first, so the cache comes back.
// Errors name the file, never its content, and are retryable: the writer
// may be half-way through.
func (f *file) Retrieve(_ context.Context) (aws.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%s: %w: %w", f.name(), err, storage.ErrUnavailable)
	}
	if !f.read || st.Size() != f.size || !st.ModTime().Equal(f.mtime) {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("%s: %w: %w", f.name(), err, storage.ErrUnavailable)
		}
		c, err := parseDocument(b, string(KindFile))
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("%s holds %w: %w", f.name(), err, storage.ErrUnavailable)
		}
		f.last, f.read, f.size, f.mtime = c, true, st.Size(), st.ModTime()
		f.log.Info("credentials read", "provider", f.name(), "key_id", maskID(c.AccessKeyID), "expires", c.Expires)
	}
	now := f.now()
	c := f.last
	if c.CanExpire && !c.Expires.After(now) {
		return aws.Credentials{}, fmt.Errorf("%s holds credentials that expired at %s and has not been rewritten since: %w",
			f.name(), c.Expires.UTC().Format(time.RFC3339), storage.ErrUnavailable)
	}
	c = refreshAhead(c, now)
	next := now.Add(fileCheckEvery)
	if !c.CanExpire || next.Before(c.Expires) {
		c.CanExpire, c.Expires = true, next
	}
	return c, nil
}
