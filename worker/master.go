// Package worker copies objects: the Agent leases shards from a master and
// feeds their objects to a Copier, which streams each object from source to
// destination (single PUT or resumable multipart), throttled, verifying the
// copy before it reports a result.
//
// The package works on the plain types of package task and on
// storage.Backend; it never imports master, tracker, conf or proto, so a
// worker binary carries no master code. It meets its master through the
// Master interface: `ferry run` satisfies it in-process, the distributed
// mode with a gRPC client.
package worker

import (
	"context"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// Master is how a worker talks to its master. Every call about a leased
// shard names its lease (job, pass, token): the master refuses what
// belongs to a pass or lease that is no longer current.
type Master interface {
	// Lease returns up to max shards for this worker. When none can be
	// granted, a master may hold the call up to wait for one to be queued
	// (a master that does not answers at once). An empty result means
	// "nothing right now, ask again"; ErrFinished means the job is over
	// (the agent exits).
	Lease(ctx context.Context, worker string, max int, wait time.Duration) ([]task.Grant, error)
	// Renew extends the leases; it returns the tokens the master no longer
	// honours (expired and re-granted): the agent stops working on them.
	Renew(ctx context.Context, worker string, held []task.LeaseRef) (lost []uint64, err error)
	// Report records object results (batched, idempotent). task.ErrStale
	// means the lease is no longer current and nothing was recorded: the
	// agent drops the shard.
	Report(ctx context.Context, worker string, lease task.LeaseRef, results []task.Result) error
	// Ack says every object of the shard has a reported result. The ack
	// of a lease the master no longer honours succeeds: nothing is left to
	// do for this worker.
	Ack(ctx context.Context, worker string, lease task.LeaseRef) error
	// Nack gives the shard back, with the reason.
	Nack(ctx context.Context, worker string, lease task.LeaseRef, reason string) error
	UploadStore
}

// UploadStore keeps the state of multipart uploads in progress, so that a
// copy interrupted by a crash (or by a lost lease) is resumed by whichever
// worker copies the object next, without re-sending the parts already
// stored.
//
// Errors are classified like storage errors (storage.Classify): an
// implementation that talks over a network wraps transient failures in
// storage.ErrUnavailable, so that the copier retries instead of giving up.
type UploadStore interface {
	// LoadUpload returns the saved state for the job's source key, and
	// false when there is none.
	LoadUpload(ctx context.Context, job, key string) (task.UploadState, bool, error)
	// SaveUpload replaces the state for s.Job and s.Key.
	SaveUpload(ctx context.Context, s task.UploadState) error
	// DropUpload forgets the state; dropping a missing state succeeds.
	DropUpload(ctx context.Context, job, key string) error
}

// ErrFinished is what Master.Lease returns once the job is over. It is
// task.ErrFinished itself: the master does not import this package, yet
// must return the value the agent tests for.
var ErrFinished = task.ErrFinished
