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
