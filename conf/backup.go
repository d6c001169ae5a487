package conf

import (
	"path/filepath"
	"strings"

	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage/backends"
)

// BackupKind is what a backup job keeps at its destination
// (backupKind).
type BackupKind string

const (
	// BackupNone: an ordinary job; destPrefix is taken literally.
	BackupNone BackupKind = ""
	// BackupMirror keeps the destination equal to the source: every run
	// copies what changed and deletes what the source no longer has
	// (deleteExtraneous, with its guards). History comes from the
	// destination bucket's versioning, not from ferry.
	BackupMirror BackupKind = "mirror"
	// BackupSnapshot makes every run a complete, dated copy under
	// destPrefix's template, ended by a manifest object; unchanged objects
	// are copied inside the destination from the previous complete
	// snapshot. Retention (keep*) prunes old ones.
	BackupSnapshot BackupKind = "snapshot"
)

// retentionKeys are the keep-* keys, in the order restic names them.
var retentionKeys = []string{"keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"}

// backup reads backupKind, the retention keys, and checks what each
// kind needs of the rest of the config; it runs after deletes() has read
// deleteExtraneous, which a mirror turns on.
func (r *reader) backup(j *Job) {
	v := r.valueOrDefault("backupKind")
	switch k := BackupKind(v); k {
	case BackupNone, BackupMirror, BackupSnapshot:
		j.Backup = k
	default:
		r.fail("backupKind", ErrInvalid, "%q: use mirror (destination kept equal to the source) or snapshot (a complete dated copy per run), or leave it empty", v)
		return
	}
	j.Retention = snapshot.Policy{
		Last: r.integer("keepLast", 0), Hourly: r.integer("keepHourly", 0), Daily: r.integer("keepDaily", 0),
		Weekly: r.integer("keepWeekly", 0), Monthly: r.integer("keepMonthly", 0), Yearly: r.integer("keepYearly", 0),
	}
	j.RetentionDryRun = r.boolean("retentionDryRun")
	templated := snapshot.HasTemplate(j.Dest.Prefix)
	if j.Backup != BackupSnapshot {
		for _, k := range append(retentionKeys, "retentionDryRun") {
			if v, set := r.value(k); set && v != defaults[k] {
				r.note(k, "%s is ignored: retention applies to backupKind=snapshot only", k)
			}
		}
		j.Retention, j.RetentionDryRun = snapshot.Policy{}, false
		if templated {
			r.fail("destPrefix", ErrInvalid, "%q holds a {time:...} or {pass} template, which only backupKind=snapshot resolves: set backupKind=snapshot, or write the prefix literally", j.Dest.Prefix)
		}
	}
	switch j.Backup {
	case BackupMirror:
		r.mirror(j)
	case BackupSnapshot:
		r.snapshotJob(j)
	}
}

func (r *reader) mirror(j *Job) {
	if j.Type != JobImport {
		r.fail("backupKind", ErrInvalid, "mirror needs jobType=import (it copies and deletes), not %s", j.Type)
		return
	}
	if v, set := r.value("deleteExtraneous"); set && !j.Deletes.Enabled {
		r.fail("deleteExtraneous", ErrInvalid, "%s contradicts backupKind=mirror, which deletes at the destination what the source no longer has: remove deleteExtraneous (a mirror turns it on), or use backupKind=snapshot to keep deleted objects in older snapshots", v)
		return
	}
	if !j.Deletes.Enabled {
		j.Deletes.Enabled = true
		if ok := r.checkDeletable(j, "backupKind"); !ok {
			j.Deletes.Enabled = false
		}
	}
	if !j.Incremental && j.Schedule == "" {
		r.note("backupKind", "backupKind=mirror without schedule or isIncremental=true runs once: set schedule to keep the mirror current")
	}
}

func (r *reader) snapshotJob(j *Job) {
	if j.Type != JobImport {
		r.fail("backupKind", ErrInvalid, "snapshot needs jobType=import, not %s", j.Type)
		return
	}
	if j.Deletes.Enabled {
		r.fail("deleteExtraneous", ErrInvalid, "true contradicts backupKind=snapshot: every snapshot is a complete copy under its own prefix, so there is nothing to delete (retention removes old snapshots: see keepLast and friends); set it to false")
	}
	if j.Dest.Type == backends.Local {
		// The template names directories under the fixed part of the
		// path: that part is the backend's root, the rest a key prefix,
		// as on a bucket.
		root := j.Dest.Root
		i := strings.Index(root, "{")
		if i < 0 {
			r.fail("destPrefix", ErrInvalid, "%q: backupKind=snapshot needs a {time:...} or {pass} template in the directory, e.g. /backups/{time:2006-01-02T15-04-05}/", root)
			return
		}
		dir := root[:strings.LastIndex(root[:i], "/")+1]
		j.Dest.Root, j.Dest.Prefix = filepath.Clean(dir), root[len(dir):]+"/"
	}
	t, err := snapshot.ParseTemplate(j.Dest.Prefix)
	if err != nil {
		r.fail("destPrefix", ErrInvalid, "backupKind=snapshot: %v", err)
		return
	}
	j.Snapshot = t
}

// restoreJob checks a jobType=restore config: its source is a snapshot,
// named by srcPrefix, read through the snapshot's manifest.
func (r *reader) restoreJob(j *Job) {
	p := j.Src.Prefix
	if j.Src.Type == backends.Local {
		// The snapshot is a directory: its parent is the backend's root,
		// and the manifest beside it.
		j.Src.Root, j.Src.Prefix = filepath.Dir(j.Src.Root), filepath.Base(j.Src.Root)+"/"
		p = j.Src.Prefix
	}
	switch {
	case p == "" || !strings.HasSuffix(p, "/"):
		r.fail("srcPrefix", ErrInvalid, "%q: jobType=restore needs the snapshot's prefix, ending in '/', as `ferry snapshots JOB` lists it (e.g. backups/2026-11-30T03-00-00/)", p)
	case snapshot.HasTemplate(p):
		r.fail("srcPrefix", ErrInvalid, "%q is a template: name one snapshot, as `ferry snapshots JOB` lists it", p)
	}
	j.Src.Snapshot = true
}

// DestStaticPrefix is the part of destPrefix every run writes under: the
// template's literal head for a snapshot job (e.g. "backups/"), else
// destPrefix itself.
func (j *Job) DestStaticPrefix() string {
	if j.Backup == BackupSnapshot {
		return j.Snapshot.Parent()
	}
	return j.Dest.Prefix
}
