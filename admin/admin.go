// Package admin is the operator's side of ferry's jobs: one Client for
// what `ferry submit`, `stat`, `failed`, `snapshots`, `retry`, `clean`,
// `pause`, ... do, with two implementations. Local works on a data dir that no process
// runs (stat also on one a `ferry run` holds); admin/remote talks to a
// master's gRPC admin service. Both run the master's own code
// (master.Manager, offline for Local), so a command means the same with
// and without --master.
package admin

import (
	"context"
	"errors"
	"time"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

// Client is the admin operations on jobs. Every method names the job it
// acts on in its errors; an unknown job wraps master.ErrUnknownJob. An
// operation an implementation cannot do wraps ErrNeedsMaster.
type Client interface {
	// Submit hands a job config (text, read from the file name, which
	// resolves relative local paths) over to be run, and returns the job's
	// name and notes (ignored keys, the pass started or resumed).
	Submit(ctx context.Context, text, name string) (job string, notes []string, err error)
	// Stat returns the job's stat, or every job's in name order when job
	// is "".
	Stat(ctx context.Context, job string) ([]JobStat, error)
	// Failed returns up to limit (0: all) failed objects of the job's
	// current pass, in key order, with their errors.
	Failed(ctx context.Context, job string, limit int) ([]tracker.Entry, error)
	// Kept returns up to limit (0: all) objects of the job's current pass
	// that the overwrite policy kept at the destination, with the reason.
	Kept(ctx context.Context, job string, limit int) ([]tracker.Entry, error)
	// Snapshots lists a backupKind=snapshot job's snapshots, oldest
	// first, removed ones included; any other job has none (nil, no
	// error).
	Snapshots(ctx context.Context, job string) ([]master.SnapshotInfo, error)
	// Retry re-queues the failed objects of the job's current pass and
	// returns how many: a master runs them at once, a local data dir at the
	// job's next `ferry run`.
	Retry(ctx context.Context, job string) (int, error)
	// Clean forgets a job that does not run: its unfinished multipart
	// uploads are aborted (see CleanOptions), then its state is deleted.
	Clean(ctx context.Context, job string, opt CleanOptions) (master.Cleaned, error)
	// Pause, Resume and Cancel change whether the job's shards are granted
	// (see master.Manager) and return the job's state after.
	Pause(ctx context.Context, job string) (state string, err error)
	Resume(ctx context.Context, job string) (state string, err error)
	Cancel(ctx context.Context, job string) (state string, err error)
	// Throttle sets the job's cluster-wide limits (0: unlimited) and
	// returns its state.
	Throttle(ctx context.Context, job string, bytesPerSecond int64, objectsPerSecond float64) (state string, err error)
	// SetCredentials gives a running job new static keys for side ("src"
	// or "dest") without resubmitting it (master.Manager.SetCredentials)
	// and returns its state. Local refuses (ErrNeedsMaster): a `ferry
	// run` job rotates keys through a credentials file.
	SetCredentials(ctx context.Context, job, side string, keys master.Keys) (state string, err error)
	// Workers returns the workers the master knows, alive or not.
	Workers(ctx context.Context) ([]master.WorkerInfo, error)
	// CutoverStart records T1 of a guided cutover of the job config text
	// (read from the file name) and starts its full copy; CutoverSwitch
	// records T2 (at; "" for the recorded one) and starts the pass up to
	// T2. A master runs the passes in the background, so the state comes
	// back with Running set; Local refuses both (ErrNeedsMaster): `ferry
	// cutover` runs them in its own process (package standalone).
	CutoverStart(ctx context.Context, text, name string) (master.CutoverRun, []string, error)
	CutoverSwitch(ctx context.Context, job, at string) (master.CutoverRun, []string, error)
	// CutoverStatus is where the job's cutover stands; an unknown one
	// wraps cutover.ErrNotStarted (Local) or master.ErrUnknownJob.
	CutoverStatus(ctx context.Context, job string) (master.CutoverRun, error)
	// CutoverReport accounts for every source object of the cutover;
	// limit bounds each list (0: all).
	CutoverReport(ctx context.Context, job string, limit int) (*cutover.Report, error)
	// Close releases the client.
	Close() error
}

// JobStat is one job's stat as a client sees it.
type JobStat struct {
	master.JobStat
	// Live: read from a process that runs the job (a master, or the status
	// a running `ferry run` publishes), not from a tracker at rest.
	Live    bool
	Updated time.Time // when it was read or published
}

// CleanOptions say what Clean does with the job's unfinished multipart
// uploads, which hold storage at the destination until aborted.
type CleanOptions struct {
	// ConfigFile is the job's .cfg, whose credentials abort them. Only
	// Local takes it (a `ferry run` job's config with its credentials is
	// not kept); a master uses the config it was submitted.
	ConfigFile string
	// Force forgets uploads there is no config to abort, instead of
	// refusing; Cleaned.Forgotten names them.
	Force bool
}

// ErrNeedsMaster is wrapped by a Local operation that only a master does
// (submit, pause, resume, cancel, throttle, workers).
var ErrNeedsMaster = errors.New("needs a master")
