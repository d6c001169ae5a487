package conf

import (
	"fmt"
	"time"
	_ "time/tzdata" // schedule time zones work on hosts without zoneinfo (containers)

	"github.com/robfig/cron/v3"
)

// cronParser reads the standard five fields (minute hour day-of-month
// month day-of-week) and the descriptors (@daily, @every 6h, ...), as
// crontab does: robfig/cron's parser, whose behaviour is what cron users
// expect; the decisions about when to run are ferry's (master.Scheduler).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// schedule reads schedule and scheduleTimeZone. A scheduled job repeats
// like an incremental one, on the cron schedule instead of an interval,
// so the two are exclusive.
func (r *reader) schedule(incremental bool) (spec, zone string, s cron.Schedule) {
	spec, set := r.value("schedule")
	zone = r.valueOrDefault("scheduleTimeZone")
	loc, err := time.LoadLocation(zone)
	if err != nil {
		r.fail("scheduleTimeZone", ErrInvalid, "%q is not a time zone: use an IANA name such as UTC or Asia/Shanghai", zone)
		return spec, zone, nil
	}
	if !set {
		return "", zone, nil
	}
	if incremental {
		r.fail("schedule", ErrInvalid, "schedule and isIncremental=true both make the job repeat: keep one (schedule runs at cron times, isIncremental every incrementalModeInterval)")
		return spec, zone, nil
	}
	s, err = cronParser.Parse(spec)
	if err != nil {
		r.fail("schedule", ErrInvalid, "%q: %v; use five cron fields (minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\") or a descriptor such as @daily", spec, err)
		return spec, zone, nil
	}
	return spec, zone, inZone{s: s, loc: loc}
}

// inZone evaluates a schedule in its time zone: "0 3 * * *" in
// Asia/Shanghai is 03:00 there, whatever the master's zone.
type inZone struct {
	s   cron.Schedule
	loc *time.Location
}

// Next is the first time after t the schedule names. Cron fields name
// wall-clock times, which a daylight-saving change skips or repeats;
// cron users expect what Vixie cron does there, so the fields are read
// on the wall clock (no DST) and the time found is placed in the zone:
//   - a time the spring jump skips (02:30 in Europe/Berlin on the last
//     Sunday of March) runs an hour later, just after the jump, and the
//     day is not left without its run;
//   - a time the autumn fall repeats (02:30 on the last Sunday of
//     October) runs once, not twice.
//
// @every intervals are real time and are left alone.
func (z inZone) Next(t time.Time) time.Time {
	if _, fields := z.s.(*cron.SpecSchedule); !fields {
		return z.s.Next(t)
	}
	n := wallClock(t.In(z.loc))
	for range 1000 { // bounded: a schedule yields a later wall time each step
		n = z.s.Next(n)
		if n.IsZero() {
			return n
		}
		at := firstAt(n, z.loc)
		// In the repeated hour the wall time read from t may name an
		// instant before t: its first occurrence, already past.
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// firstAt places the wall time w (a UTC reading) in loc: at its first
// occurrence when the autumn fall makes it occur twice (Go's time.Date
// does not say which it picks), so that a run at the first is not
// followed by another at the second.
func firstAt(w time.Time, loc *time.Location) time.Time {
	at := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
	_, now := at.Zone()
	_, before := at.Add(-12 * time.Hour).Zone()
	if before > now {
		if alt := at.Add(-time.Duration(before-now) * time.Second); wallClock(alt.In(loc)).Equal(w) {
			return alt
		}
	}
	return at
}

// wallClock is t's reading on a clock without daylight saving: the same
// date and time of day, in UTC.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// ScheduleText describes the job's schedule for people, "" when none.
func (j *Job) ScheduleText() string {
	if j.Schedule == "" {
		return ""
	}
	return fmt.Sprintf("%s (%s)", j.Schedule, j.ScheduleZone)
}
