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

func (z inZone) Next(t time.Time) time.Time { return z.s.Next(t.In(z.loc)) }

// ScheduleText describes the job's schedule for people, "" when none.
func (j *Job) ScheduleText() string {
	if j.Schedule == "" {
		return ""
	}
	return fmt.Sprintf("%s (%s)", j.Schedule, j.ScheduleZone)
}
