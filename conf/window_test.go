package conf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestImportUntil(t *testing.T) {
	t1 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(2024, 5, 8, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		lines        []string
		since, until time.Time
		window       string
		problem      string // on importUntil, "" = valid
	}{
		{name: "default: no bounds", window: ""},
		{name: "upper bound only", lines: []string{"importUntil=1715126400"}, until: t2,
			window: "modified in [-inf, 2024-05-08T00:00:00Z)"},
		{name: "both, mixed formats", lines: []string{"importSince=1714521600", "importUntil=2024-05-08T08:00:00+08:00"},
			since: t1, until: t2, window: "modified in [2024-05-01T00:00:00Z, 2024-05-08T00:00:00Z)"},
		{name: "zero until = no upper bound", lines: []string{"importSince=1714521600", "importUntil=0"}, since: t1,
			window: "modified in [2024-05-01T00:00:00Z, +inf)"},
		{name: "until equal to since", lines: []string{"importSince=1714521600", "importUntil=1714521600"},
			problem: "is not after importSince (2024-05-01T00:00:00Z): the window [importSince, importUntil) would be empty"},
		{name: "until before since", lines: []string{"importSince=2024-05-08T00:00:00Z", "importUntil=2024-05-01T00:00:00Z"},
			problem: "2024-05-01T00:00:00Z is not after importSince (2024-05-08T00:00:00Z)"},
		{name: "milliseconds", lines: []string{"importUntil=1715126400000"}, problem: "looks like milliseconds"},
		{name: "garbage", lines: []string{"importUntil=next week"}, problem: "neither Unix seconds nor RFC 3339"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := parse(t, with(tc.lines...))
			if tc.problem != "" {
				onlyProblem(t, err, "importUntil", ErrInvalid, tc.problem)
				return
			}
			require.NoError(t, err)
			require.True(t, tc.since.Equal(j.ImportSince), "since %v", j.ImportSince)
			require.True(t, tc.until.Equal(j.ImportUntil), "until %v", j.ImportUntil)
			require.Equal(t, tc.window, j.Window())
			if tc.window != "" {
				require.Contains(t, j.Redacted(), "# time window: "+tc.window+"\n")
			}
		})
	}
}

func TestDeleteKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lines   []string
		want    Deletes
		key     string // the key a problem is reported on; "" = valid
		problem string
		note    string
	}{
		{name: "off by default", want: Deletes{MaxCount: 1000, MaxPercent: 10}},
		{name: "on with a guard and dry run",
			lines: []string{"deleteExtraneous=true", "deleteMaxCount=5", "deleteMaxPercent=2.5", "deleteDryRun=yes"},
			want:  Deletes{Enabled: true, MaxCount: 5, MaxPercent: 2.5, DryRun: true}},
		{name: "guard keys without deleteExtraneous", lines: []string{"deleteMaxCount=5"},
			want: Deletes{MaxCount: 5, MaxPercent: 10}, note: "deleteMaxCount is ignored: deleteExtraneous is false"},
		{name: "audit", lines: []string{"jobType=audit", "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "applies to jobType=import only"},
		{name: "with importSince", lines: []string{"importSince=1714521600", "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "cannot be combined with importSince"},
		{name: "with importUntil", lines: []string{"importUntil=1714521600", "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "cannot be combined with importUntil"},
		{name: "with include", lines: []string{"include=a/**", "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "cannot be combined with include"},
		{name: "with exclude", lines: []string{"exclude=*.tmp", "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "cannot be combined with exclude"},
		{name: "importSince=0 is no filter", lines: []string{"importSince=0", "deleteExtraneous=true"},
			want: Deletes{Enabled: true, MaxCount: 1000, MaxPercent: 10}},
		{name: "count zero", lines: []string{"deleteExtraneous=true", "deleteMaxCount=0"},
			key: "deleteMaxCount", problem: "0 is too small: use 1 or more"},
		{name: "percent zero", lines: []string{"deleteExtraneous=true", "deleteMaxPercent=0"},
			key: "deleteMaxPercent", problem: "give a percentage above 0 and at most 100"},
		{name: "percent above 100", lines: []string{"deleteExtraneous=true", "deleteMaxPercent=150"},
			key: "deleteMaxPercent", problem: "give a percentage above 0 and at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := parse(t, with(tc.lines...))
			if tc.problem != "" {
				onlyProblem(t, err, tc.key, ErrInvalid, tc.problem)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, j.Deletes)
			if tc.note != "" {
				require.Len(t, j.Notes, 1)
				require.Contains(t, j.Notes[0], tc.note)
			} else {
				require.Empty(t, j.Notes)
			}
		})
	}
}
