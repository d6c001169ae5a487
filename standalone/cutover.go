package standalone

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/task"
)

// Phase is where a guided cutover (DESIGN §10) stands.
type Phase string

const (
	// PhaseCopying: T1 is recorded and the full copy runs (or was
	// interrupted, or ended with failures): `cutover start` resumes it.
	PhaseCopying Phase = "copying"
	// PhaseCopied: the full copy ended clean; the operator enables
	// back-to-origin, switches writes and notes T2.
	PhaseCopied Phase = "copied"
	// PhaseSwitching: T2 is recorded and the pass up to T2 runs (or ended
	// with failures): `cutover switch` runs it again.
	PhaseSwitching Phase = "switching"
	// PhaseSwitched: the pass up to T2 ended with nothing failed.
	PhaseSwitched Phase = "switched"
)

// Cutover is a guided cutover's durable state. It lives in its own file
// (CutoverPath, mode 0600) rather than in the tracker's job record: it is
// the operator's workflow around the job's passes, written only by the
// cutover commands, and the tracker's records stay what the master owns.
// The file is replaced by rename after an fsync, so a kill -9 leaves the
// old state or the new one, never a torn one.
type Cutover struct {
	Job    string `json:"job"`
	Config string `json:"config"` // absolute path of the job file (secrets stay in it, never here)
	// Source and Dest describe the two ends (no keys), DestBucket names
	// the bucket back-to-origin is enabled on: for the printed steps.
	Source     string    `json:"source"`
	Dest       string    `json:"dest"`
	DestBucket string    `json:"dest_bucket"`
	T1         time.Time `json:"t1"` // the full copy started
	T2         time.Time `json:"t2,omitzero"`
	Phase      Phase     `json:"phase"`
	// FullPass and SwitchPass: the last pass of each phase (a rerun after
	// failures starts a new pass; the last one's manifest is the truth).
	FullPass   uint64    `json:"full_pass,omitempty"`
	SwitchPass uint64    `json:"switch_pass,omitempty"`
	Updated    time.Time `json:"updated"`
}

// CutoverPath is where the state of job's cutover is kept.
func CutoverPath(dataDir, job string) string {
	return filepath.Join(dataDir, "cutover", job+".json")
}

// ErrNoCutover: the job has no cutover state in the data dir.
var ErrNoCutover = errors.New("no cutover")

// LoadCutover reads job's cutover state.
func LoadCutover(dataDir, job string) (*Cutover, error) {
	b, err := os.ReadFile(CutoverPath(dataDir, job))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w for job %q in %s: start one with `ferry cutover start JOB.cfg`", ErrNoCutover, job, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("cutover state of %q: %w", job, err)
	}
	var c Cutover
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("cutover state %s is damaged: %w", CutoverPath(dataDir, job), err)
	}
	return &c, nil
}

// SaveCutover writes c durably (temporary file, fsync, rename, fsync of
// the directory).
func SaveCutover(dataDir string, c *Cutover) error {
	path := CutoverPath(dataDir, c.Job)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cutover state: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("cutover state: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cutover state: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("cutover state %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// CutoverCheck refuses a job file a cutover cannot run safely, saying
// what to change.
func CutoverCheck(job *conf.Job) error {
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
	if len(errs) > 0 {
		return fmt.Errorf("job %q cannot run as a cutover: %w", job.Name, errors.Join(errs...))
	}
	return nil
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
		if ok && isOverridden(strings.TrimSpace(k)) {
			continue
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "# set by `ferry cutover switch`: the pass up to T2\nimportSince=0\nimportUntil=%d\noverwritePolicy=%s\nisIncremental=false\n",
		t2.Unix(), policy)
	return b.String()
}

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
