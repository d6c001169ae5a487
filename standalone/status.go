package standalone

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

// Status is a run's live state: the pass counters from the tracker plus
// what only the running process knows.
type Status struct {
	Job       string           `json:"job"`
	Type      string           `json:"type"` // import or audit
	Pass      uint64           `json:"pass"`
	State     string           `json:"state"` // scanning, copying, finished
	Counters  tracker.Counters `json:"counters"`
	Totals    tracker.Counters `json:"totals"` // every pass's counters added up
	Live      master.Snapshot  `json:"live"`
	Listed    int64            `json:"listed"`   // objects seen in the source listing this run
	Excluded  int64            `json:"excluded"` // dropped by importSince/include/exclude this run
	BytesSent int64            `json:"bytes_sent_live"`
	Started   time.Time        `json:"started"`
	Elapsed   time.Duration    `json:"elapsed_ns"`
	Updated   time.Time        `json:"updated"`
	PID       int              `json:"pid"`
	// WriteRace: the race window the destination leaves open (conditional
	// writes it does not enforce); "" when none.
	WriteRace string `json:"write_race,omitempty"`
	// Snapshot: the pass's snapshot (backupKind=snapshot); published so
	// `ferry stat` shows it while the run holds the tracker.
	Snapshot *master.SnapshotInfo `json:"snapshot,omitempty"`
}

// Report is the end of a run.
type Report struct {
	Status
	JobState   tracker.JobState `json:"job_state"`
	Checkpoint time.Time        `json:"checkpoint"`
	Failures   []tracker.Entry  `json:"failures,omitempty"`  // the first few, see `ferry failed`
	Extra      int64            `json:"extra,omitempty"`     // audit: objects only at the destination
	NextPass   time.Time        `json:"next_pass,omitempty"` // incremental: when the next pass starts
	// Problem: why the pass failed beyond its failed objects (delete
	// propagation's guard), as `ferry stat` shows it.
	Problem string `json:"problem,omitempty"`
	// Kept: the first few objects the overwrite policy kept at the
	// destination, with their reasons (Counters.Kept counts them all).
	Kept []tracker.Entry `json:"kept,omitempty"`
}

func (r *run) status() Status {
	s := Status{Job: r.job.Name, Type: string(r.job.Type), Started: r.started, Elapsed: time.Since(r.started),
		Updated: time.Now(), PID: os.Getpid()}
	if r.link != nil {
		s.BytesSent = r.link.BytesSent()
	}
	if ss, err := r.m.Stat(r.job.Name); err == nil && len(ss) == 1 {
		js := ss[0]
		s.Pass, s.Counters, s.Totals, s.Listed, s.Excluded = js.Pass, js.Counters, js.Totals, js.Listed, js.Excluded
		s.WriteRace, s.Snapshot = js.WriteRace, js.Snapshot
		switch {
		case js.State != string(tracker.JobRunning) && js.State != "paused":
			s.State = "finished"
		case !js.ScanFinished:
			s.State = "scanning"
		default:
			s.State = "copying"
		}
	}
	s.Live, _ = r.m.Live(r.job.Name)
	return s
}

// report is the end of a pass: its counters, the job's state, and the
// first failures (`ferry failed` lists them all).
func (r *run) report() *Report {
	rep := &Report{Status: r.status()}
	if ss, err := r.m.Stat(r.job.Name); err == nil && len(ss) == 1 {
		js := ss[0]
		rep.JobState, rep.Checkpoint, rep.Extra, rep.NextPass = tracker.JobState(js.State), js.Checkpoint, js.AuditExtra, js.NextPass
		if rep.JobState == tracker.JobFailed {
			rep.Problem = js.Problem
		}
	}
	if fs, err := r.m.Failed(r.job.Name, 20); err == nil {
		rep.Failures = fs
	}
	if ks, err := r.m.Kept(r.job.Name, 20); err == nil {
		rep.Kept = ks
	}
	return rep
}

// StatusPath is where a running `ferry run` publishes its Status, because
// the tracker database is locked while it runs.
func StatusPath(dataDir, job string) string {
	return filepath.Join(dataDir, "status", job+".json")
}

// StatusJobs names the jobs with a published Status, in name order.
func StatusJobs(dataDir string) []string {
	files, _ := filepath.Glob(StatusPath(dataDir, "*"))
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".json")
	}
	sort.Strings(names)
	return names
}

// ReadStatus reads a published Status.
func ReadStatus(dataDir, job string) (Status, error) {
	var s Status
	b, err := os.ReadFile(StatusPath(dataDir, job))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// writeStatusFile publishes s atomically (0600: it names buckets and keys).
// Errors are ignored: status is a convenience, the tracker is the truth.
func writeStatusFile(dataDir string, s Status) {
	path := StatusPath(dataDir, s.Job)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return
	}
	_ = os.Rename(tmp, path)
}
