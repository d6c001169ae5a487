package cutover

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/task"
)

func TestCutoverStateRoundTripsPrivately(t *testing.T) {
	dir := t.TempDir()
	in := &State{Job: "j", Config: "/x/j.cfg", T1: t1, T2: t1.Add(time.Hour), Phase: PhaseSwitching, FullPass: 1, SwitchPass: 3}
	require.NoError(t, Save(dir, in))
	out, err := Load(dir, "j")
	require.NoError(t, err)
	assert.True(t, out.T1.Equal(in.T1))
	assert.True(t, out.T2.Equal(in.T2))
	assert.Equal(t, in.Phase, out.Phase)
	assert.Equal(t, in.SwitchPass, out.SwitchPass)
	fi, err := os.Stat(Path(dir, "j"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = os.Stat(Path(dir, "j") + ".tmp")
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary file is renamed away")

	_, err = Load(dir, "other")
	assert.ErrorIs(t, err, ErrNotStarted)
	assert.ErrorContains(t, err, "ferry cutover start")
}

func TestParseT2(t *testing.T) {
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
			err := Check(job)
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
			assert.Equal(t, out, SwitchConfig(out, got, t2), "derived again from itself (a master's saved config), it is the same")
		})
	}
}
