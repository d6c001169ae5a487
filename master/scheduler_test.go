package master

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchedulerEvery(t *testing.T) {
	s := NewScheduler()
	hour := Every(time.Hour)
	at := s.Finished("j", t0, hour)
	assert.Equal(t, t0.Add(time.Hour), at)
	assert.Equal(t, at, s.Next("j"))
	assert.Empty(t, s.Due(at.Add(-time.Nanosecond), nil), "not before its time")
	assert.Equal(t, []string{"j"}, s.Due(at, nil))
	assert.Empty(t, s.Due(at, nil), "handed out once")
	assert.True(t, s.Next("j").IsZero())

	// The master was down for a day: one pass, not 24.
	s.Finished("j", t0, hour)
	assert.Equal(t, []string{"j"}, s.Due(t0.Add(24*time.Hour), nil))
	assert.Empty(t, s.Due(t0.Add(24*time.Hour), nil))
}

func TestSchedulerRules(t *testing.T) {
	hour := Every(time.Hour)
	tests := []struct {
		name string
		do   func(s *Scheduler)
		at   time.Time
		due  []string
		next time.Time // of job a, after Due
	}{
		{"a job that runs once has no next pass",
			func(s *Scheduler) { s.Finished("a", t0, nil) }, t0.Add(48 * time.Hour), nil, time.Time{}},
		{"a pass started by hand clears the due time",
			func(s *Scheduler) { s.Finished("a", t0, hour); s.Started("a") }, t0.Add(2 * time.Hour), nil, time.Time{}},
		{"forgotten (canceled or cleaned)",
			func(s *Scheduler) { s.Finished("a", t0, hour); s.Forget("a") }, t0.Add(2 * time.Hour), nil, time.Time{}},
		{"a retry replaces the due time",
			func(s *Scheduler) { s.Finished("a", t0, hour); s.RetryAt("a", t0.Add(time.Minute)) }, t0.Add(time.Minute), []string{"a"}, time.Time{}},
		{"due jobs come in name order",
			func(s *Scheduler) { s.Finished("b", t0, hour); s.Finished("a", t0.Add(time.Minute), hour) }, t0.Add(2 * time.Hour), []string{"a", "b"}, time.Time{}},
		{"only those due",
			func(s *Scheduler) { s.Finished("b", t0, hour); s.Finished("a", t0.Add(time.Hour), hour) }, t0.Add(time.Hour), []string{"b"}, t0.Add(2 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScheduler()
			tc.do(s)
			assert.Equal(t, tc.due, s.Due(tc.at, nil))
			assert.Equal(t, tc.next, s.Next("a"))
		})
	}
}

func TestSchedulerIneligibleKeepsItsTime(t *testing.T) {
	s := NewScheduler()
	s.Finished("paused", t0, Every(time.Minute))
	s.Finished("free", t0, Every(time.Minute))
	paused := true
	eligible := func(job string) bool { return job != "paused" || !paused }
	assert.Equal(t, []string{"free"}, s.Due(t0.Add(time.Hour), eligible))
	assert.Equal(t, t0.Add(time.Minute), s.Next("paused"), "a paused job keeps its due time")
	paused = false
	assert.Equal(t, []string{"paused"}, s.Due(t0.Add(time.Hour), eligible), "and runs once resumed")
}

func TestSchedulerDueDropsJobsRescheduledMeanwhile(t *testing.T) {
	s := NewScheduler()
	s.Finished("a", t0, Every(time.Minute))
	// A pass of a starts (by hand) while Due is deciding: the scheduled one
	// must not start as well.
	eligible := func(job string) bool { s.Started(job); return true }
	assert.Empty(t, s.Due(t0.Add(time.Hour), eligible))
}

// cronOf parses a cron schedule as a job config gives it.
func cronOf(t *testing.T, spec, zone string) Policy {
	t.Helper()
	j, err := conf.Parse(strings.NewReader("jobName=c\nsrcType=local\nsrcPrefix=/tmp/a/\ndestType=local\ndestPrefix=/tmp/b/\nschedule="+spec+
		"\nscheduleTimeZone="+zone+"\n"), "c.cfg")
	require.NoError(t, err)
	return policyOf(j)
}

func TestSchedulerCron(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	daily := cronOf(t, "0 3 * * *", "Asia/Shanghai")
	s := NewScheduler()

	// A pass that ended at 03:20 runs again the next day at 03:00 there.
	end := time.Date(2026, 3, 1, 3, 20, 0, 0, sh)
	assert.True(t, time.Date(2026, 3, 2, 3, 0, 0, 0, sh).Equal(s.Finished("j", end, daily)))

	// The master was down for three days: one catch-up run, then the
	// schedule again from where that run ends.
	late := time.Date(2026, 3, 5, 12, 0, 0, 0, sh)
	assert.Equal(t, []string{"j"}, s.Due(late, nil))
	assert.Empty(t, s.Due(late, nil), "one run, not three")
	assert.True(t, time.Date(2026, 3, 6, 3, 0, 0, 0, sh).Equal(s.Finished("j", late.Add(time.Hour), daily)))
}

func TestMissed(t *testing.T) {
	hourly := cronOf(t, "0 * * * *", "UTC")
	start := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC) // the 10:00 run
	for _, tc := range []struct {
		name     string
		p        Policy
		finished time.Time
		want     int
	}{
		{"ended before the next time", hourly, start.Add(30 * time.Minute), 0},
		{"ran past 11:00 and 12:00", hourly, start.Add(2*time.Hour + time.Minute), 2},
		{"an interval counts from the end", Every(time.Hour), start.Add(5 * time.Hour), 0},
		{"no schedule", nil, start.Add(5 * time.Hour), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Missed(tc.p, start, tc.finished))
		})
	}
}
