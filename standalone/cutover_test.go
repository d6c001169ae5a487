package standalone

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

func TestCutoverStateRoundTripsPrivately(t *testing.T) {
	dir := t.TempDir()
	t1 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	in := &Cutover{Job: "j", Config: "/x/j.cfg", T1: t1, T2: t1.Add(time.Hour), Phase: PhaseSwitching, FullPass: 1, SwitchPass: 3}
	require.NoError(t, SaveCutover(dir, in))
	out, err := LoadCutover(dir, "j")
	require.NoError(t, err)
	assert.True(t, out.T1.Equal(in.T1))
	assert.True(t, out.T2.Equal(in.T2))
	assert.Equal(t, in.Phase, out.Phase)
	assert.Equal(t, in.SwitchPass, out.SwitchPass)
	fi, err := os.Stat(CutoverPath(dir, "j"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = os.Stat(CutoverPath(dir, "j") + ".tmp")
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary file is renamed away")

	_, err = LoadCutover(dir, "other")
	assert.ErrorIs(t, err, ErrNoCutover)
	assert.ErrorContains(t, err, "ferry cutover start")
}

func TestParseT2(t *testing.T) {
	t1 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	now := t1.Add(24 * time.Hour)
	tests := []struct {
		name, at, wantErr string
		want              time.Time
	}{
		{name: "unix seconds", at: "1714525200", want: time.Unix(1714525200, 0)},
		{name: "RFC 3339 at T1 in another zone", at: "2024-05-01T08:00:00+08:00", wantErr: "not after T1"},
		{name: "RFC 3339 after T1", at: "2024-05-01T10:00:00+08:00", want: t1.Add(2 * time.Hour)},
		{name: "equal to T1", at: "2024-05-01T00:00:00Z", wantErr: "not after T1"},
		{name: "future", at: "2024-05-03T00:00:00Z", wantErr: "in the future"},
		{name: "garbage", at: "yesterday", wantErr: "Unix seconds (date +%s) or RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseT2(tt.at, t1, now)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, got.Equal(tt.want), "got %s want %s", got, tt.want)
		})
	}
}

func parseJob(t *testing.T, lines ...string) (string, *conf.Job) {
	t.Helper()
	text := strings.Join(append([]string{"jobName=j", "srcType=local", "srcPrefix=" + t.TempDir() + "/",
		"destType=local", "destPrefix=" + t.TempDir() + "/"}, lines...), "\n") + "\n"
	job, err := conf.Parse(strings.NewReader(text), "j.cfg")
	require.NoError(t, err)
	return text, job
}

func TestCutoverCheckRefusesWhatCouldClobberOrDelete(t *testing.T) {
	tests := []struct {
		line, wantErr string
	}{
		{"", ""},
		{"overwritePolicy=never", ""},
		{"overwritePolicy=always", "overwritePolicy=always can replace"},
		{"overwritePolicy=if-different", "overwritePolicy=if-different can replace"},
		{"isSkipExistFile=false", "overwritePolicy=always"},
		{"importSince=1714525200", "set by the cutover itself"},
		{"jobType=audit", "use jobType=import"},
		{"deleteExtraneous=true", "a cutover never deletes"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, job := parseJob(t, tt.line)
			err := CutoverCheck(job)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestSwitchConfigSetsTheWindowAndPolicy(t *testing.T) {
	t2 := time.Unix(1714525200, 0)
	tests := []struct {
		name, line, policy string
	}{
		{"default policy", "", "if-source-newer"},
		{"never stays never", "overwritePolicy=never", "never"},
		{"isSkipExistFile replaced", "isSkipExistFile=true", "if-source-newer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, job := parseJob(t, tt.line)
			out := SwitchConfig(text, job, t2)
			got, err := conf.Parse(strings.NewReader(out), "j.cfg")
			require.NoError(t, err, "the switch config parses: no key set twice")
			assert.True(t, got.ImportSince.IsZero(), "every object before T2 is in scope")
			assert.True(t, got.ImportUntil.Equal(t2))
			assert.Equal(t, task.OverwritePolicy(tt.policy), got.Overwrite)
			assert.False(t, got.Incremental)
		})
	}
}

func entry(key string, pass uint64, st task.Status, outcome task.Outcome, method task.Method) tracker.Entry {
	return tracker.Entry{Pass: pass, Result: task.Result{Key: key, Dest: key, Status: st, Outcome: outcome, Method: method, Size: 1}}
}

func TestCutoverReportAccountsForEveryEntry(t *testing.T) {
	c := &Cutover{Job: "j", SwitchPass: 2}
	entries := []tracker.Entry{
		entry("copied-now", 2, task.StatusVerified, "", task.MethodCRC64),
		entry("identical", 2, task.StatusVerified, task.OutcomeIdentical, task.MethodCRC64),
		entry("kept", 2, task.StatusSkipped, task.OutcomeKept, ""),
		entry("unchanged", 2, task.StatusSkipped, "", task.MethodManifest),
		entry("failed", 2, task.StatusFailed, "", ""),
		entry("odd-skip", 2, task.StatusSkipped, "", ""),
		entry("gone", 1, task.StatusVerified, "", task.MethodCRC64),
		entry("dest-record", 2, task.StatusWouldDelete, "", ""),
	}
	b := newReportBuilder(c, 0)
	for _, e := range entries {
		require.NoError(t, b.add(e))
	}
	r := b.finish(tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 6}}, true)
	assert.Equal(t, int64(2), r.Copied)
	assert.Equal(t, int64(1), r.CopiedInPass)
	assert.Equal(t, int64(1), r.Identical)
	assert.Equal(t, int64(1), r.KeptCount)
	assert.Equal(t, int64(1), r.FailedCount)
	assert.Equal(t, int64(1), r.Unaccounted, "a skip that proves nothing is not accounted for")
	assert.Equal(t, int64(1), r.DeletedAtSourceCount)
	require.Len(t, r.Kept, 1)
	assert.Equal(t, "kept", r.Kept[0].Key)
	require.Len(t, r.DeletedAtSource, 1)
	assert.Equal(t, "gone", r.DeletedAtSource[0].Key)
	assert.False(t, r.OK)
}

func TestCutoverReportOKAndIncomplete(t *testing.T) {
	c := &Cutover{Job: "j", SwitchPass: 2}
	tests := []struct {
		name    string
		pass    tracker.Pass
		found   bool
		limit   int
		wantOK  bool
		wantUn  int64
		wantCut bool
	}{
		{name: "finished, all there", pass: tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 3}},
			found: true, wantOK: true},
		{name: "finished, a result missing", pass: tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 5}},
			found: true, wantUn: 2},
		{name: "not finished", pass: tracker.Pass{N: 2, Counters: tracker.Counters{Scanned: 3}}, found: true, wantUn: 1},
		{name: "no such pass", found: false, wantUn: 1},
		{name: "list cut at the limit", pass: tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 3}},
			found: true, limit: 1, wantOK: true, wantCut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newReportBuilder(c, tt.limit)
			for _, k := range []string{"a", "b", "c"} {
				require.NoError(t, b.add(entry(k, 2, task.StatusSkipped, task.OutcomeKept, "")))
			}
			r := b.finish(tt.pass, tt.found)
			assert.Equal(t, tt.wantOK, r.OK)
			assert.Equal(t, tt.wantUn, r.Unaccounted)
			assert.Equal(t, int64(3), r.KeptCount, "counts are complete whatever the limit")
			assert.Equal(t, tt.wantCut, r.Truncated)
		})
	}
}

// Objects deleted at the source are listed only while the destination
// still has them; a failed lookup fails the report rather than guessing.
func TestCutoverReportLooksUpDeletedAtTheDestination(t *testing.T) {
	c := &Cutover{Job: "j", SwitchPass: 2}
	b := newReportBuilder(c, 0)
	b.present = func(key string) (bool, error) {
		switch key {
		case "still":
			return true, nil
		case "gone":
			return false, nil
		}
		return false, errors.New("denied")
	}
	require.NoError(t, b.add(entry("still", 1, task.StatusVerified, "", task.MethodCRC64)))
	require.NoError(t, b.add(entry("gone", 1, task.StatusVerified, "", task.MethodCRC64)))
	require.NoError(t, b.add(entry("here-now", 2, task.StatusVerified, "", task.MethodCRC64)), "entries of the pass are not looked up")
	err := b.add(entry("unreadable", 1, task.StatusVerified, "", task.MethodCRC64))
	assert.ErrorContains(t, err, `destination "unreadable": denied`)
	r := b.finish(tracker.Pass{N: 2, ScanFinished: true, Finished: time.Now(), Counters: tracker.Counters{Scanned: 1}}, true)
	assert.Equal(t, int64(1), r.DeletedAtSourceCount)
	assert.Equal(t, int64(1), r.GoneAtBothEnds)
	require.Len(t, r.DeletedAtSource, 1)
	assert.Equal(t, "still", r.DeletedAtSource[0].Key)
}
