package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// summary renders decisions as "ID: reason, reason" or "ID: -" (removed).
func summary(t *testing.T, ds []Decision) []string {
	t.Helper()
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		if !d.Keep {
			require.Empty(t, d.Reasons, d.ID)
			out = append(out, d.ID+": -")
			continue
		}
		out = append(out, d.ID+": "+strings.Join(d.Reasons, ", "))
	}
	return out
}

func TestPolicyApply(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	day := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	snaps := func(ts ...time.Time) []Snap {
		out := make([]Snap, len(ts))
		for i, tm := range ts {
			out[i] = Snap{ID: tm.Format("2006-01-02T15:04Z"), Time: tm}
		}
		return out
	}
	const (
		last    = "last snapshot"
		hourly  = "hourly snapshot"
		daily   = "daily snapshot"
		weekly  = "weekly snapshot"
		monthly = "monthly snapshot"
		newest  = ReasonNewest
	)
	keep := func(id string, reasons ...string) string { return id + ": " + strings.Join(reasons, ", ") }
	drop := func(id string) string { return id + ": -" }

	for _, tc := range []struct {
		name  string
		p     Policy
		loc   *time.Location
		snaps []Snap
		want  []string // newest first
	}{
		{
			name:  "keep-last 2 of 5",
			p:     Policy{Last: 2},
			snaps: snaps(day(1, 1, 0), day(1, 2, 0), day(1, 3, 0), day(1, 4, 0), day(1, 5, 0)),
			want: []string{keep("2026-01-05T00:00Z", last, newest), keep("2026-01-04T00:00Z", last),
				drop("2026-01-03T00:00Z"), drop("2026-01-02T00:00Z"), drop("2026-01-01T00:00Z")},
		},
		{
			name: "daily 3, several per day",
			p:    Policy{Daily: 3},
			snaps: snaps(day(1, 1, 8), day(1, 1, 20), day(1, 2, 8), day(1, 2, 20), day(1, 3, 12),
				day(1, 4, 6), day(1, 4, 18)),
			want: []string{keep("2026-01-04T18:00Z", daily, newest), drop("2026-01-04T06:00Z"),
				keep("2026-01-03T12:00Z", daily), keep("2026-01-02T20:00Z", daily), drop("2026-01-02T08:00Z"),
				drop("2026-01-01T20:00Z"), drop("2026-01-01T08:00Z")},
		},
		{
			// restic 0.17: a rule with count left keeps the oldest too.
			name:  "daily 5 with fewer days keeps the oldest",
			p:     Policy{Daily: 5},
			snaps: snaps(day(1, 1, 8), day(1, 1, 20), day(1, 2, 8)),
			want: []string{keep("2026-01-02T08:00Z", daily, newest), keep("2026-01-01T20:00Z", daily),
				keep("2026-01-01T08:00Z", daily)},
		},
		{
			// 2025-12-30 and 2026-01-02 are both in ISO week 2026-W01;
			// 2025-12-28 is 2025-W52.
			name: "weekly across a year boundary",
			p:    Policy{Weekly: 3},
			snaps: snaps(time.Date(2025, 12, 27, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 28, 0, 0, 0, 0, time.UTC),
				time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC), day(1, 2, 0), day(1, 6, 0)),
			want: []string{keep("2026-01-06T00:00Z", weekly, newest), keep("2026-01-02T00:00Z", weekly),
				drop("2025-12-30T00:00Z"), keep("2025-12-28T00:00Z", weekly), drop("2025-12-27T00:00Z")},
		},
		{
			name:  "monthly 2",
			p:     Policy{Monthly: 2},
			snaps: snaps(day(1, 5, 0), day(1, 20, 0), day(2, 10, 0), day(3, 1, 0), day(3, 15, 0)),
			want: []string{keep("2026-03-15T00:00Z", monthly, newest), drop("2026-03-01T00:00Z"),
				keep("2026-02-10T00:00Z", monthly), drop("2026-01-20T00:00Z"), drop("2026-01-05T00:00Z")},
		},
		{
			name:  "combined last, daily, monthly",
			p:     Policy{Last: 1, Daily: 2, Monthly: 2},
			snaps: snaps(day(1, 10, 10), day(2, 1, 10), day(2, 1, 12), day(2, 2, 9), day(2, 3, 9)),
			want: []string{keep("2026-02-03T09:00Z", last, daily, monthly, newest), keep("2026-02-02T09:00Z", daily),
				drop("2026-02-01T12:00Z"), drop("2026-02-01T10:00Z"), keep("2026-01-10T10:00Z", monthly)},
		},
		{
			// 2026-10-25 in Berlin: 02:00-03:00 happens twice (CEST, then
			// CET), so 00:10Z..01:40Z are all local hour 02 of one day.
			name: "hourly over the DST fall-back in Europe/Berlin",
			p:    Policy{Hourly: 3},
			loc:  berlin,
			snaps: snaps(time.Date(2026, 10, 24, 23, 10, 0, 0, time.UTC), day(10, 25, 0).Add(10*time.Minute),
				day(10, 25, 0).Add(40*time.Minute), day(10, 25, 1).Add(10*time.Minute),
				day(10, 25, 1).Add(40*time.Minute), day(10, 25, 2).Add(10*time.Minute)),
			want: []string{keep("2026-10-25T02:10Z", hourly, newest), keep("2026-10-25T01:40Z", hourly),
				drop("2026-10-25T01:10Z"), drop("2026-10-25T00:40Z"), drop("2026-10-25T00:10Z"),
				keep("2026-10-24T23:10Z", hourly)},
		},
		{
			name: "the same hourly in UTC",
			p:    Policy{Hourly: 3},
			loc:  time.UTC,
			snaps: snaps(time.Date(2026, 10, 24, 23, 10, 0, 0, time.UTC), day(10, 25, 0).Add(10*time.Minute),
				day(10, 25, 0).Add(40*time.Minute), day(10, 25, 1).Add(10*time.Minute),
				day(10, 25, 1).Add(40*time.Minute), day(10, 25, 2).Add(10*time.Minute)),
			want: []string{keep("2026-10-25T02:10Z", hourly, newest), keep("2026-10-25T01:40Z", hourly),
				drop("2026-10-25T01:10Z"), keep("2026-10-25T00:40Z", hourly), drop("2026-10-25T00:10Z"),
				drop("2026-10-24T23:10Z")},
		},
		{name: "empty input", p: Policy{Last: 3}, snaps: nil, want: []string{}},
		{name: "empty input, zero policy", snaps: nil, want: []string{}},
		{
			name:  "zero policy keeps all",
			snaps: snaps(day(1, 1, 0), day(1, 2, 0)),
			want:  []string{keep("2026-01-02T00:00Z", "policy is empty"), keep("2026-01-01T00:00Z", "policy is empty")},
		},
		{
			// restic answers the same: the newest opens the month's bucket.
			name:  "monthly 1, two in one month: the newest stays",
			p:     Policy{Monthly: 1},
			snaps: snaps(day(1, 1, 0), day(1, 2, 0)),
			want:  []string{keep("2026-01-02T00:00Z", monthly, newest), drop("2026-01-01T00:00Z")},
		},
		{
			name:  "unlimited daily",
			p:     Policy{Daily: -1},
			snaps: snaps(day(1, 1, 0), day(1, 1, 5), day(1, 2, 0), day(1, 3, 0)),
			want: []string{keep("2026-01-03T00:00Z", daily, newest), keep("2026-01-02T00:00Z", daily),
				keep("2026-01-01T05:00Z", daily), keep("2026-01-01T00:00Z", daily)},
		},
		{
			name:  "equal times ordered by ID",
			p:     Policy{Last: 1},
			snaps: []Snap{{ID: "b", Time: day(1, 1, 0)}, {ID: "a", Time: day(1, 1, 0)}},
			want:  []string{keep("a", last, newest), drop("b")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := tc.loc
			if loc == nil {
				loc = time.UTC
			}
			require.Equal(t, tc.want, summary(t, tc.p.Apply(tc.snaps, loc)))
			// Input order does not matter.
			rev := slices.Clone(tc.snaps)
			slices.Reverse(rev)
			require.Equal(t, tc.want, summary(t, tc.p.Apply(rev, loc)))
		})
	}
}

func TestPolicyString(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{}, "keep everything (no retention policy)"},
		{Policy{Last: 2, Daily: 7}, "keep-last 2, keep-daily 7"},
		{Policy{Hourly: 24, Weekly: 4, Monthly: 12, Yearly: -1}, "keep-hourly 24, keep-weekly 4, keep-monthly 12, keep-yearly unlimited"},
	} {
		t.Run(fmt.Sprint(tc.p), func(t *testing.T) {
			require.Equal(t, tc.want, tc.p.String())
			require.Equal(t, tc.p == Policy{}, tc.p.IsZero())
		})
	}
}
