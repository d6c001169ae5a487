// Package cutover owns the guided cutover after back-to-origin (DESIGN
// §10, docs/cutover.md): its durable state (T1, T2, phase), the checks a
// job file must pass, the config of the pass up to T2, the phase rules of
// each command and the report that accounts for every source object.
// It runs nothing: standalone wires it around `ferry run`'s passes, and a
// master around its own.
package cutover

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Phase is where a guided cutover stands.
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

// State is a guided cutover's durable state. It lives in its own file
// (Path, mode 0600) rather than in the tracker's job record: it is the
// operator's workflow around the job's passes, written only by the
// cutover commands, and the tracker's records stay what the master owns.
// The file is replaced by rename after an fsync, so a kill -9 leaves the
// old state or the new one, never a torn one.
type State struct {
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

// Path is where the state of job's cutover is kept.
func Path(dataDir, job string) string {
	return filepath.Join(dataDir, "cutover", job+".json")
}

// ErrNotStarted: the job has no cutover state in the data dir.
var ErrNotStarted = errors.New("no cutover")

// Load reads job's cutover state.
func Load(dataDir, job string) (*State, error) {
	b, err := os.ReadFile(Path(dataDir, job))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w for job %q in %s: start one with `ferry cutover start JOB.cfg`", ErrNotStarted, job, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("cutover state of %q: %w", job, err)
	}
	var c State
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("cutover state %s is damaged: %w", Path(dataDir, job), err)
	}
	return &c, nil
}

// Save writes c durably (temporary file, fsync, rename, fsync of the
// directory).
func Save(dataDir string, c *State) error {
	path := Path(dataDir, c.Job)
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
