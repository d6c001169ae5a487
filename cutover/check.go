package cutover

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/task"
)

// Check refuses a job file a cutover cannot run safely, saying what to
// change.
func Check(job *conf.Job) error {
	var errs []error
	if job.Type != conf.JobImport {
		errs = append(errs, fmt.Errorf("jobType=%s: a cutover copies; use jobType=import", job.Type))
	}
	switch job.Overwrite {
	case task.OverwriteAlways, task.OverwriteIfDifferent:
		errs = append(errs, fmt.Errorf("overwritePolicy=%s can replace objects the application writes at the destination after T2; "+
			"use if-source-newer (the default) or never", job.Overwrite))
	}
	if !job.ImportSince.IsZero() || !job.ImportUntil.IsZero() {
		errs = append(errs, errors.New("importSince/importUntil are set by the cutover itself (T1, T2): remove them or set them to 0"))
	}
	if job.Deletes.Enabled {
		errs = append(errs, errors.New("deleteExtraneous=true would delete at the destination; a cutover never deletes (it lists objects deleted at the source): set it to false"))
	}
	if job.Incremental {
		errs = append(errs, errors.New("isIncremental=true: the cutover runs its passes itself; set it to false"))
	}
	if job.Schedule != "" {
		errs = append(errs, errors.New("schedule is set: the cutover runs its passes itself; remove it"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("job %q cannot run as a cutover: %w", job.Name, errors.Join(errs...))
	}
	return nil
}

// ParseJob parses a job file's text (named name in errors) and Checks it.
func ParseJob(text, name string) (*conf.Job, error) {
	job, err := conf.Parse(strings.NewReader(text), name)
	if err != nil {
		return nil, err
	}
	if err := Check(job); err != nil {
		return nil, err
	}
	return job, nil
}

// ReadJob reads the job file at path: its text and the job, Checked.
func ReadJob(path string) (string, *conf.Job, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("job file: %w", err)
	}
	job, err := ParseJob(string(b), path)
	if err != nil {
		return "", nil, err
	}
	return string(b), job, nil
}

// overriddenKeys are the keys SwitchConfig sets; lines setting them in
// the job file are dropped (the config format refuses a key set twice).
var overriddenKeys = []string{"importSince", "importUntil", "overwritePolicy", "isSkipExistFile", "isIncremental"}

// SwitchConfig is the job file's text for the pass up to T2: every
// object modified before T2 is in scope, so each source object gets its
// result in this pass (those unchanged since an earlier pass from the
// manifest, with no request), which is what lets the report account for
// all of them and name the ones deleted at the source. What is copied is
// what changed in [T1, T2), plus what was rewritten in place or failed
// before. The policy is if-source-newer unless the job says never.
func SwitchConfig(text string, job *conf.Job, t2 time.Time) string {
	policy := task.OverwriteIfSourceNewer
	if job.Overwrite == task.OverwriteNever {
		policy = task.OverwriteNever
	}
	var b strings.Builder
	for line := range strings.Lines(text) {
		k, _, ok := strings.Cut(strings.TrimSpace(line), "=")
		// On a master the text may be an earlier switch config (the one
		// it was last submitted): its own lines go too.
		if ok && isOverridden(strings.TrimSpace(k)) || strings.TrimSpace(line) == switchMarker {
			continue
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "%s\nimportSince=0\nimportUntil=%d\noverwritePolicy=%s\nisIncremental=false\n",
		switchMarker, t2.Unix(), policy)
	return b.String()
}

const switchMarker = "# set by `ferry cutover switch`: the pass up to T2"

func isOverridden(k string) bool {
	for _, o := range overriddenKeys {
		if k == o {
			return true
		}
	}
	return false
}

// ParseT2 reads --at as importSince is read (Unix seconds or RFC 3339)
// and checks it lies after t1 and not after now.
func ParseT2(s string, t1, now time.Time) (time.Time, error) {
	t2, err := conf.ParseInstant(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q: %w; give T2 as Unix seconds (date +%%s) or RFC 3339 (2024-05-01T12:00:00+08:00)", s, err)
	}
	if !t2.After(t1) {
		return time.Time{}, fmt.Errorf("--at %s is not after T1 (%s, when the full copy started): T2 is when writes were switched to the destination, after T1",
			t2.Format(time.RFC3339), t1.Format(time.RFC3339))
	}
	if t2.After(now) {
		return time.Time{}, fmt.Errorf("--at %s is in the future (now %s): switch writes first, then give the time they were switched",
			t2.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return t2, nil
}
