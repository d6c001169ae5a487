package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/standalone"
	"github.com/ferry-migrate/ferry/tracker"
)

// Local is the Client of a local data dir. Each call opens the tracker,
// runs an offline master.Manager on it (jobs registered, nothing run) and
// closes it again: the tracker's lock is what tells that no `ferry run`
// is using the data dir, and it is held only for the call.
type Local struct {
	DataDir string
	// LockWait is how long a call waits for the tracker's lock (default
	// 1s); stat waits less and then reads the live status instead.
	LockWait time.Duration
}

var _ Client = (*Local)(nil)

// NewLocal returns the Client of dataDir.
func NewLocal(dataDir string) *Local { return &Local{DataDir: dataDir, LockWait: time.Second} }

// Close does nothing: no call keeps the tracker open.
func (l *Local) Close() error { return nil }

// open opens the tracker and an offline manager on it; done closes both.
func (l *Local) open(readOnly bool, wait time.Duration) (m *master.Manager, done func(), err error) {
	if _, err := os.Stat(filepath.Join(l.DataDir, tracker.DBFile)); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("no ferry data in %s (set --data-dir or FERRY_DATA_DIR)", l.DataDir)
	}
	st, err := tracker.Open(l.DataDir, tracker.Options{ReadOnly: readOnly, LockTimeout: wait})
	if err != nil {
		return nil, nil, err
	}
	m, err = master.NewManager(master.ManagerConfig{Store: st, DataDir: l.DataDir, Offline: true})
	if err == nil {
		err = m.Start(context.Background())
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return m, func() { m.Close(); st.Close() }, nil
}

// with runs fn on an offline manager of the data dir. While a `ferry run`
// holds it, it says so instead of waiting.
func (l *Local) with(readOnly bool, fn func(*master.Manager) error) error {
	m, done, err := l.open(readOnly, l.lockWait())
	if errors.Is(err, tracker.ErrInUse) {
		return fmt.Errorf("%w; `ferry stat` works meanwhile, this command needs the job stopped", err)
	}
	if err != nil {
		return err
	}
	defer done()
	return l.named(fn(m))
}

func (l *Local) lockWait() time.Duration {
	if l.LockWait <= 0 {
		return time.Second
	}
	return l.LockWait
}

// named says which data dir lacks an unknown job.
func (l *Local) named(err error) error {
	if errors.Is(err, master.ErrUnknownJob) {
		return fmt.Errorf("%w in %s", err, l.DataDir)
	}
	return err
}

// Stat reads the tracker or, while `ferry run` holds it, the status the
// running process publishes.
func (l *Local) Stat(ctx context.Context, job string) ([]JobStat, error) {
	m, done, err := l.open(true, min(l.lockWait(), 300*time.Millisecond))
	if errors.Is(err, tracker.ErrInUse) {
		return liveStats(l.DataDir, job)
	}
	if err != nil {
		return nil, err
	}
	defer done()
	ss, err := m.Stat(job)
	if err != nil {
		return nil, l.named(err)
	}
	out := make([]JobStat, len(ss))
	for i, s := range ss {
		out[i] = JobStat{JobStat: s, Updated: time.Now()}
	}
	return out, nil
}

func (l *Local) Failed(ctx context.Context, job string, limit int) (es []tracker.Entry, err error) {
	err = l.with(true, func(m *master.Manager) error {
		es, err = m.Failed(job, limit)
		return err
	})
	return es, err
}

func (l *Local) Kept(ctx context.Context, job string, limit int) (es []tracker.Entry, err error) {
	err = l.with(true, func(m *master.Manager) error {
		es, err = m.Kept(job, limit)
		return err
	})
	return es, err
}

func (l *Local) Snapshots(ctx context.Context, job string) (ss []master.SnapshotInfo, err error) {
	err = l.with(true, func(m *master.Manager) error {
		ss, err = m.Snapshots(job)
		return err
	})
	return ss, err
}

func (l *Local) Retry(ctx context.Context, job string) (n int, err error) {
	err = l.with(false, func(m *master.Manager) error {
		n, err = m.Retry(ctx, job)
		return err
	})
	return n, err
}

// Clean aborts the job's uploads with the credentials of opt.ConfigFile
// (a `ferry run` job's are not kept), and removes the status `ferry run`
// published for it.
func (l *Local) Clean(ctx context.Context, job string, opt CleanOptions) (done master.Cleaned, err error) {
	var mo master.CleanOptions
	if opt.ConfigFile != "" {
		cfg, err := conf.Load(opt.ConfigFile)
		if err != nil {
			return done, err
		}
		if cfg.Name != job {
			return done, fmt.Errorf("%s is the config of job %q, not %q", opt.ConfigFile, cfg.Name, job)
		}
		mo.Config = cfg
	}
	mo.Force = opt.Force
	err = l.with(false, func(m *master.Manager) error {
		done, err = m.CleanJob(ctx, job, mo)
		return err
	})
	if err == nil {
		_ = os.Remove(standalone.StatusPath(l.DataDir, job))
	}
	return done, err
}

func (l *Local) Submit(ctx context.Context, text, name string) (string, []string, error) {
	return "", nil, fmt.Errorf("submit: %w: a local data dir runs its jobs with `ferry run`", ErrNeedsMaster)
}

func (l *Local) Pause(ctx context.Context, job string) (string, error) {
	return "", fmt.Errorf("pause %q: %w", job, ErrNeedsMaster)
}

func (l *Local) Resume(ctx context.Context, job string) (string, error) {
	return "", fmt.Errorf("resume %q: %w", job, ErrNeedsMaster)
}

func (l *Local) Cancel(ctx context.Context, job string) (string, error) {
	return "", fmt.Errorf("cancel %q: %w", job, ErrNeedsMaster)
}

func (l *Local) Throttle(ctx context.Context, job string, bytesPerSecond int64, objectsPerSecond float64) (string, error) {
	return "", fmt.Errorf("throttle %q: %w: a local job takes maxBytesPerSecond in its .cfg", job, ErrNeedsMaster)
}

func (l *Local) SetCredentials(ctx context.Context, job, side string, keys master.Keys) (string, error) {
	return "", fmt.Errorf("credentials %q: %w: a `ferry run` job rotates keys through %sCredentials=file:PATH", job, ErrNeedsMaster, side)
}

func (l *Local) Workers(ctx context.Context) ([]master.WorkerInfo, error) {
	return nil, fmt.Errorf("workers: %w: `ferry run` has no remote workers", ErrNeedsMaster)
}
