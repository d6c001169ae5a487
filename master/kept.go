package master

import (
	"errors"
	"fmt"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Kept returns up to limit (0 = all) objects of the job's current pass
// that the overwrite policy kept at the destination (task.OutcomeKept:
// newer there, or written between a worker's check and its write), with
// their reasons: what a cutover report lists. Skipped entries have no
// index, so the manifest is scanned, and only when the pass counted some.
func (m *Manager) Kept(job string, limit int) ([]tracker.Entry, error) {
	j, err := m.trackerJob(job)
	if err != nil {
		return nil, err
	}
	if p, ok, err := m.st.GetPass(job, j.Pass); err != nil || !ok || p.Kept == 0 {
		return nil, err
	}
	out, err := m.entries(job, task.StatusSkipped, func(e tracker.Entry) bool { return e.Outcome == task.OutcomeKept }, limit)
	if err != nil {
		return nil, fmt.Errorf("job %q: kept objects: %w", job, err)
	}
	return out, nil
}

// entries returns up to limit (0 = all) manifest entries of the job's
// current pass with status that match (nil: all).
func (m *Manager) entries(job string, status task.Status, match func(tracker.Entry) bool, limit int) ([]tracker.Entry, error) {
	if _, err := m.job(job); err != nil {
		return nil, err
	}
	j, err := m.trackerJob(job)
	if err != nil {
		return nil, err
	}
	var out []tracker.Entry
	errStop := errors.New("enough")
	err = m.st.Manifest(job, status, "", func(e tracker.Entry) error {
		if e.Pass != j.Pass || match != nil && !match(e) {
			return nil
		}
		out = append(out, e)
		if limit > 0 && len(out) >= limit {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return out, nil
}
