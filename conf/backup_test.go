package conf

import (
	"testing"

	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/stretchr/testify/require"
)

func TestBackupKeys(t *testing.T) {
	const tmpl = "destPrefix=backups/{time:2006-01-02T15-04-05}/"
	for _, tc := range []struct {
		name    string
		lines   []string
		check   func(t *testing.T, j *Job)
		key     string // the key a problem is reported on; "" = valid
		problem string
		note    string
	}{
		{name: "none by default", check: func(t *testing.T, j *Job) {
			require.Equal(t, BackupNone, j.Backup)
			require.True(t, j.Retention.IsZero())
		}},
		{name: "mirror turns deletes on", lines: []string{"backupKind=mirror", "schedule=@daily"},
			check: func(t *testing.T, j *Job) {
				require.Equal(t, BackupMirror, j.Backup)
				require.True(t, j.Deletes.Enabled)
				require.Equal(t, 1000, j.Deletes.MaxCount, "the guard keeps its defaults")
			}},
		{name: "mirror with deletes said twice", lines: []string{"backupKind=mirror", "schedule=@daily", "deleteExtraneous=true"},
			check: func(t *testing.T, j *Job) { require.True(t, j.Deletes.Enabled) }},
		{name: "mirror refusing deletes", lines: []string{"backupKind=mirror", "deleteExtraneous=false"},
			key: "deleteExtraneous", problem: "contradicts backupKind=mirror"},
		{name: "mirror with a filter", lines: []string{"backupKind=mirror", "include=a/**"},
			key: "backupKind", problem: "cannot be combined with include"},
		{name: "mirror run once", lines: []string{"backupKind=mirror"}, note: "runs once",
			check: func(t *testing.T, j *Job) { require.True(t, j.Deletes.Enabled) }},
		{name: "mirror audit", lines: []string{"backupKind=mirror", "jobType=audit"},
			key: "backupKind", problem: "mirror needs jobType=import"},
		{name: "snapshot with retention", lines: []string{"backupKind=snapshot", tmpl, "keepLast=2", "keepDaily=7", "retentionDryRun=true"},
			check: func(t *testing.T, j *Job) {
				require.Equal(t, BackupSnapshot, j.Backup)
				require.Equal(t, snapshot.Policy{Last: 2, Daily: 7}, j.Retention)
				require.True(t, j.RetentionDryRun)
				require.False(t, j.Deletes.Enabled)
			}},
		{name: "snapshot with deletes", lines: []string{"backupKind=snapshot", tmpl, "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "contradicts backupKind=snapshot"},
		{name: "snapshot without a template", lines: []string{"backupKind=snapshot", "destPrefix=backups/"},
			key: "destPrefix", problem: "backupKind=snapshot"},
		{name: "template without snapshot", lines: []string{tmpl},
			key: "destPrefix", problem: "only backupKind=snapshot resolves"},
		{name: "retention without snapshot", lines: []string{"keepLast=3"}, note: "keepLast is ignored"},
		{name: "negative retention", lines: []string{"backupKind=snapshot", tmpl, "keepWeekly=-1"},
			key: "keepWeekly", problem: "too small"},
		{name: "unknown kind", lines: []string{"backupKind=incremental"},
			key: "backupKind", problem: "use mirror"},
		{name: "restore", lines: []string{"jobType=restore", "srcPrefix=backups/2026-11-30T03-00-00/"},
			check: func(t *testing.T, j *Job) { require.Equal(t, JobRestore, j.Type) }},
		{name: "restore without a snapshot", lines: []string{"jobType=restore"},
			key: "srcPrefix", problem: "needs the snapshot's prefix"},
		{name: "restore of a template", lines: []string{"jobType=restore", "srcPrefix=backups/{time:2006}/"},
			key: "srcPrefix", problem: "is a template"},
		{name: "restore with deletes", lines: []string{"jobType=restore", "srcPrefix=b/1/", "deleteExtraneous=true"},
			key: "deleteExtraneous", problem: "deleting applies to jobType=import only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := parse(t, with(tc.lines...))
			if tc.problem != "" {
				onlyProblem(t, err, tc.key, ErrInvalid, tc.problem)
				return
			}
			require.NoError(t, err)
			if tc.check != nil {
				tc.check(t, j)
			}
			if tc.note != "" {
				require.Len(t, j.Notes, 1)
				require.Contains(t, j.Notes[0], tc.note)
			} else {
				require.Empty(t, j.Notes)
			}
			// The printed config reads back to the same backup settings.
			again := mustParse(t, j.Redacted())
			require.Equal(t, j.Backup, again.Backup)
			require.Equal(t, j.Retention, again.Retention)
			require.Equal(t, j.Deletes, again.Deletes)
		})
	}
}
