package master

import (
	"sort"
	"sync"
	"time"
)

// Policy says when a job's next pass is due once a pass has finished. A
// zero time means no next pass. Incremental jobs use Every; cron schedules
// are another Policy.
type Policy interface {
	Next(finished time.Time) time.Time
}

// Every starts the next pass a fixed interval after the last one finished
// (incrementalModeInterval): a long pass pushes the next one back rather
// than piling passes up.
type Every time.Duration

func (e Every) Next(finished time.Time) time.Time { return finished.Add(time.Duration(e)) }

// Missed counts the times p named while a pass ran from started to
// finished, after the one that started it: runs that were skipped because
// a pass never starts while the previous one of its job runs. Every makes
// none (it counts from the end of a pass).
func Missed(p Policy, started, finished time.Time) int {
	if p == nil {
		return 0
	}
	if _, ok := p.(Every); ok {
		return 0
	}
	n := 0
	for t := p.Next(started); !t.IsZero() && t.Before(finished) && n < 1000; t = p.Next(t) {
		n++
	}
	return n
}

// Scheduler decides when each job's next pass starts. It is pure logic:
// the time is always passed in (tests use a fake clock), it starts nothing
// itself, and the Manager asks it which jobs are Due. Safe for concurrent
// use.
//
// The rules: a job has at most one due time; starting a pass by any route
// (submit, resume, retry, a due time) clears it; a due time in the past
// (the master was down) makes one pass, not one per missed interval; a
// failed start is retried at a time the caller chooses.
type Scheduler struct {
	mu   sync.Mutex
	next map[string]time.Time
}

// NewScheduler makes a scheduler with nothing scheduled.
func NewScheduler() *Scheduler { return &Scheduler{next: map[string]time.Time{}} }

// Finished schedules job's next pass by p after a pass that finished at
// the given time, and returns when that is (zero: none, p is nil or says
// so).
func (s *Scheduler) Finished(job string, finished time.Time, p Policy) time.Time {
	var at time.Time
	if p != nil {
		at = p.Next(finished)
	}
	s.set(job, at)
	return at
}

// RetryAt schedules job's next attempt at at, after a pass could not start
// or stopped on an error the master retries (a scan, an audit).
func (s *Scheduler) RetryAt(job string, at time.Time) { s.set(job, at) }

// Started clears job's due time: a pass runs now.
func (s *Scheduler) Started(job string) { s.set(job, time.Time{}) }

// Forget drops job (canceled, cleaned).
func (s *Scheduler) Forget(job string) { s.set(job, time.Time{}) }

// Next is when job's next pass is due; zero when none is scheduled.
func (s *Scheduler) Next(job string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next[job]
}

// Due returns, in name order, the jobs whose time has come at now and that
// may start (eligible; a paused job keeps its due time until it resumes),
// and clears their due times: each is handed out once. eligible is called
// without the scheduler's lock, so it may take the caller's.
func (s *Scheduler) Due(now time.Time, eligible func(job string) bool) []string {
	s.mu.Lock()
	cands := map[string]time.Time{}
	for job, at := range s.next {
		if !now.Before(at) {
			cands[job] = at
		}
	}
	s.mu.Unlock()
	var due []string
	for job := range cands {
		if eligible == nil || eligible(job) {
			due = append(due, job)
		}
	}
	sort.Strings(due)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, job := range due {
		// Rescheduled meanwhile (a pass started, a retry set): not ours.
		if at, ok := s.next[job]; ok && at.Equal(cands[job]) {
			delete(s.next, job)
			out = append(out, job)
		}
	}
	return out
}

func (s *Scheduler) set(job string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.IsZero() {
		delete(s.next, job)
		return
	}
	s.next[job] = at
}
