package cutover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Report accounts for every source object in the cutover's scope
// (modified before T2), from the manifest of the pass up to T2: each one
// is copied, identical, kept or failed. Objects ferry copied in an
// earlier pass that the pass up to T2 no longer found at the source are
// listed as deleted at the source; ferry never deletes them.
type Report struct {
	Job   string    `json:"job"`
	T1    time.Time `json:"t1"`
	T2    time.Time `json:"t2"`
	Phase Phase     `json:"phase"`
	Pass  uint64    `json:"pass"` // the pass up to T2 the report reads

	// Copied: proven present at the destination by ferry's copy, in the
	// pass up to T2 (CopiedInPass) or earlier and unchanged since.
	Copied       int64 `json:"copied"`
	CopiedInPass int64 `json:"copied_in_pass"`
	Identical    int64 `json:"identical"` // already there, proven the same bytes (e.g. mirrored back): nothing written
	KeptCount    int64 `json:"kept"`      // the destination holds another object the policy keeps (the application's)
	FailedCount  int64 `json:"failed"`
	// Unaccounted: source objects in scope with no outcome (the pass did
	// not finish, or a result is missing, or skipped for another reason).
	Unaccounted int64 `json:"unaccounted"`
	// DeletedAtSourceCount: objects ferry copied earlier with no source
	// object in the pass up to T2 (deleted, or modified past T2, at the
	// source since) that are still at the destination: ferry left them.
	DeletedAtSourceCount int64 `json:"deleted_at_source"`
	// GoneAtBothEnds: the same, but gone at the destination too (the
	// application deleted them there): nothing left to decide.
	GoneAtBothEnds int64 `json:"gone_at_both_ends"`

	Kept            []Item `json:"kept_objects,omitempty"`
	Failed          []Item `json:"failed_objects,omitempty"`
	Other           []Item `json:"unaccounted_objects,omitempty"`
	DeletedAtSource []Item `json:"deleted_at_source_objects,omitempty"`
	// Truncated: the lists stop at the limit asked for; the counts do not.
	Truncated bool `json:"truncated,omitempty"`
	OK        bool `json:"ok"` // nothing failed, nothing unaccounted
}

// Item is one listed object.
type Item struct {
	Key    string    `json:"key"`
	Dest   string    `json:"dest,omitempty"`
	Size   int64     `json:"size"`
	Reason string    `json:"reason,omitempty"`
	Pass   uint64    `json:"pass"`
	Mtime  time.Time `json:"source_mtime,omitzero"`
}

// Manifest is what the report reads of the tracker; *tracker.Store
// has it.
type Manifest interface {
	Manifest(job string, status task.Status, after string, fn func(tracker.Entry) error) error
	GetPass(job string, n uint64) (tracker.Pass, bool, error)
}

// Build is c's report from the manifest m; limit bounds each list (0 =
// everything). present says whether a destination key still exists (one
// HEAD each, for the objects deleted at the source only; nil: assume it
// does), so only those still there are listed. running: the pass up to
// T2 is known to run still (on a master), which the report says rather
// than "did not finish".
func Build(c *State, m Manifest, present func(dest string) (bool, error), limit int, running bool) (*Report, error) {
	if err := c.Reportable(); err != nil {
		return nil, err
	}
	b := NewBuilder(c, limit)
	b.Present, b.Running = present, running
	if err := m.Manifest(c.Job, task.StatusUnknown, "", b.Add); err != nil {
		return nil, fmt.Errorf("cutover report of %q: %w", c.Job, err)
	}
	p, found, err := m.GetPass(c.Job, c.SwitchPass)
	if err != nil {
		return nil, fmt.Errorf("cutover report of %q: %w", c.Job, err)
	}
	return b.Finish(p, found), nil
}

// Builder folds manifest entries into a Report; limit bounds each list
// (0 = no bound). Present says whether a destination key still exists
// (nil: assume it does). Running: the pass is known to run still.
type Builder struct {
	r       Report
	limit   int
	Present func(dest string) (bool, error)
	Running bool
}

// NewBuilder starts the report of c's pass up to T2.
func NewBuilder(c *State, limit int) *Builder {
	return &Builder{r: Report{Job: c.Job, T1: c.T1, T2: c.T2, Phase: c.Phase, Pass: c.SwitchPass}, limit: limit}
}

func (b *Builder) list(l *[]Item, e tracker.Entry) {
	if b.limit > 0 && len(*l) >= b.limit {
		b.r.Truncated = true
		return
	}
	*l = append(*l, Item{Key: e.Key, Dest: e.Dest, Size: e.Size, Reason: e.Reason, Pass: e.Pass, Mtime: e.ModTime})
}

// Add takes one manifest entry (any pass, any status).
func (b *Builder) Add(e tracker.Entry) error {
	r := &b.r
	switch {
	case e.Status == task.StatusDeleted || e.Status == task.StatusWouldDelete:
		// Delete-propagation records describe destination objects, not
		// source ones; a cutover job never enables it.
	case e.Pass < r.Pass:
		// Known from an earlier pass, absent from the full listing of the
		// pass up to T2.
		if b.Present != nil {
			there, err := b.Present(e.Dest)
			if err != nil {
				return fmt.Errorf("destination %q: %w", e.Dest, err)
			}
			if !there {
				r.GoneAtBothEnds++
				return nil
			}
		}
		r.DeletedAtSourceCount++
		b.list(&r.DeletedAtSource, e)
	case e.Pass > r.Pass:
		// A pass after the cutover's (the job was run again): not ours to
		// judge, and not unaccounted either.
	case e.Status == task.StatusVerified && e.Outcome == task.OutcomeIdentical:
		r.Identical++
	case e.Status == task.StatusVerified:
		r.Copied++
		r.CopiedInPass++
	case e.Status == task.StatusSkipped && e.Outcome == task.OutcomeKept:
		r.KeptCount++
		b.list(&r.Kept, e)
	case e.Status == task.StatusSkipped && e.Method == task.MethodManifest:
		r.Copied++ // verified in an earlier pass, source unchanged since
	case e.Status == task.StatusFailed:
		r.FailedCount++
		b.list(&r.Failed, e)
	default:
		r.Unaccounted++
		b.list(&r.Other, e)
	}
	return nil
}

// Finish checks the totals against the pass record p (found: it exists):
// every object the pass listed in scope must have its entry.
func (b *Builder) Finish(p tracker.Pass, found bool) *Report {
	r := &b.r
	switch {
	case !found:
		r.Unaccounted++ // no pass up to T2 at all
		r.Other = append(r.Other, Item{Key: "", Reason: fmt.Sprintf("pass %d is not in the tracker: run `ferry cutover switch %s`", r.Pass, r.Job)})
	case p.Finished.IsZero() || !p.ScanFinished:
		// Objects not yet listed or copied cannot be counted one by one.
		missing := max(p.Scanned-(r.Copied+r.Identical+r.KeptCount+r.FailedCount+r.Unaccounted), 1)
		r.Unaccounted += missing
		why := fmt.Sprintf("pass %d did not finish: run `ferry cutover switch %s` again", p.N, r.Job)
		if b.Running {
			why = fmt.Sprintf("pass %d still running: run finish again when it has ended", p.N)
		}
		r.Other = append(r.Other, Item{Reason: why})
	default:
		if missing := p.Scanned - (r.Copied + r.Identical + r.KeptCount + r.FailedCount + r.Unaccounted); missing > 0 {
			r.Unaccounted += missing
		}
	}
	r.OK = r.FailedCount == 0 && r.Unaccounted == 0
	return r
}

// Present is Build's present for the destination dst: one HEAD (Stat),
// never a read of the object.
func Present(ctx context.Context, dst storage.Backend) func(dest string) (bool, error) {
	return func(key string) (bool, error) {
		_, err := dst.Stat(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
}
