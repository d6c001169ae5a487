package master

import (
	"time"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// JobStore is the tracker as the Manager uses it: what a Coordinator needs
// (Store) plus jobs, the manifest and multipart upload state.
// *tracker.Store implements it; the contract of each method is the
// tracker's. Every write is durable when the call returns: the Manager
// keeps nothing that a restart must find.
type JobStore interface {
	Store
	ListJobs() ([]tracker.Job, error)
	GetJob(name string) (j tracker.Job, ok bool, err error)
	PutJob(j tracker.Job) error
	DeleteJob(name string) error
	StartPass(job string, started time.Time) (tracker.Pass, error)
	SetDestOnly(job string, n uint64, count int64) error
	SetSkippedRuns(job string, n uint64, count int64) error
	// SetPassProblem makes the pass end failed, saying why (delete
	// propagation's guard).
	SetPassProblem(job string, n uint64, problem string) error
	// SetSnapshot records a pass's snapshot (backupKind=snapshot).
	SetSnapshot(job string, n uint64, sn tracker.Snapshot) error
	// Passes calls fn for every pass of the job, oldest first.
	Passes(job string, fn func(tracker.Pass) error) error
	// RequeueFailed queues the failed objects of the job's last pass
	// again and returns how many (see tracker.Store.RequeueFailed).
	RequeueFailed(job string) (int, error)
	Manifest(job string, status task.Status, after string, fn func(tracker.Entry) error) error

	GetUpload(job, key string) (u task.UploadState, ok bool, err error)
	PutUpload(u task.UploadState) error
	DeleteUpload(job, key string) error
	Uploads(job string, fn func(task.UploadState) error) error
}

var _ JobStore = (*tracker.Store)(nil)
