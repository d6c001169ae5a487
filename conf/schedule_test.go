package conf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchedule(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai
	for _, tc := range []struct {
		name  string
		lines []string
		next  time.Time // after at
		text  string
	}{
		{"none", nil, time.Time{}, ""},
		{"daily at 03:00 UTC", []string{"schedule=0 3 * * *"}, time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), "0 3 * * * (UTC)"},
		{"in its time zone", []string{"schedule=0 3 * * *", "scheduleTimeZone=Asia/Shanghai"},
			time.Date(2026, 3, 1, 19, 0, 0, 0, time.UTC), "0 3 * * * (Asia/Shanghai)"},
		{"a descriptor", []string{"schedule=@every 6h"}, at.Add(6 * time.Hour), "@every 6h (UTC)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := mustParse(t, with(tc.lines...))
			assert.Equal(t, tc.text, j.ScheduleText())
			if tc.next.IsZero() {
				assert.Nil(t, j.Cron)
				return
			}
			require.NotNil(t, j.Cron)
			assert.True(t, tc.next.Equal(j.Cron.Next(at)), "next %s, want %s", j.Cron.Next(at), tc.next)
			again := mustParse(t, j.Redacted())
			assert.Equal(t, j.ScheduleText(), again.ScheduleText(), "the printed config keeps the schedule")
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct {
		name, key, msg string
		lines          []string
	}{
		{"not cron", "schedule", "five cron fields", []string{"schedule=every day"}},
		{"six fields", "schedule", "five cron fields", []string{"schedule=0 0 3 * * *"}},
		{"unknown zone", "scheduleTimeZone", "IANA name", []string{"schedule=@daily", "scheduleTimeZone=Mars/Olympus"}},
		{"with isIncremental", "schedule", "keep one", []string{"schedule=@daily", "isIncremental=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, with(tc.lines...))
			onlyProblem(t, err, tc.key, ErrInvalid, tc.msg)
		})
	}
}

// TestScheduleAcrossDaylightSaving: cron fields are wall-clock times,
// as Vixie cron reads them: a time the spring jump skips runs just after
// it (the day keeps its run) and a time the autumn fall repeats runs once.
func TestScheduleAcrossDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// at is a wall time in Berlin; on the fall-back day, 02:xx is the
	// first (CEST) unless zone says CET.
	at := func(mon time.Month, day, h, m int, zone string) time.Time {
		tm := time.Date(2026, mon, day, h, m, 0, 0, berlin)
		name, _ := tm.Zone()
		switch {
		case zone == "CET" && name == "CEST":
			tm = tm.Add(time.Hour)
		case zone == "" && name == "CET" && tm.Add(-time.Hour).Hour() == h:
			tm = tm.Add(-time.Hour)
		}
		return tm
	}
	for _, tc := range []struct {
		name string
		spec string
		from time.Time
		want []time.Time // the next runs, in order
	}{
		{"spring: 02:30 does not exist, runs at 03:30", "30 2 * * *", at(time.March, 28, 12, 0, ""),
			[]time.Time{at(time.March, 29, 3, 30, ""), at(time.March, 30, 2, 30, "")}},
		{"spring: 03:00 is unaffected", "0 3 * * *", at(time.March, 28, 12, 0, ""),
			[]time.Time{at(time.March, 29, 3, 0, ""), at(time.March, 30, 3, 0, "")}},
		{"autumn: 02:30 comes twice, runs once", "30 2 * * *", at(time.October, 24, 12, 0, ""),
			[]time.Time{at(time.October, 25, 2, 30, ""), at(time.October, 26, 2, 30, "")}},
		{"autumn: a run that ends in the repeated hour is not repeated", "30 2 * * *", at(time.October, 25, 2, 10, "CET"),
			[]time.Time{at(time.October, 26, 2, 30, "")}},
		{"autumn: hourly runs each wall hour once", "0 * * * *", at(time.October, 25, 1, 30, ""),
			[]time.Time{at(time.October, 25, 2, 0, ""), at(time.October, 25, 3, 0, "")}},
		{"@every is real time", "@every 1h", at(time.October, 25, 1, 30, ""),
			[]time.Time{at(time.October, 25, 2, 30, ""), at(time.October, 25, 2, 30, "CET")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := mustParse(t, with("schedule="+tc.spec, "scheduleTimeZone=Europe/Berlin"))
			from := tc.from
			for i, want := range tc.want {
				got := j.Cron.Next(from)
				require.True(t, want.Equal(got), "run %d: got %s (%s UTC), want %s (%s UTC)", i+1, got.In(berlin), got.UTC(), want, want.UTC())
				from = got
			}
		})
	}
}
