package admin

import (
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/standalone"
)

// staleStatus: a status older than this was left by a process that is
// gone (a running one publishes every second).
const staleStatus = time.Minute

// liveStats reads the status that a running `ferry run` publishes for
// job, or for every job when job is "", because it holds the tracker.
func liveStats(dataDir, job string) ([]JobStat, error) {
	names := []string{job}
	if job == "" {
		names = standalone.StatusJobs(dataDir)
	}
	var out []JobStat
	for _, n := range names {
		s, err := standalone.ReadStatus(dataDir, n)
		if err != nil {
			if job != "" {
				return nil, fmt.Errorf("job %q: a ferry process is using %s and has published no status for it", job, dataDir)
			}
			continue
		}
		if time.Since(s.Updated) > staleStatus {
			continue
		}
		out = append(out, fromStatus(s))
	}
	return out, nil
}

// fromStatus is a published status in Stat's terms: the process's job is
// running until its pass finished.
func fromStatus(s standalone.Status) JobStat {
	c := s.Counters
	js := master.JobStat{Job: s.Job, Type: s.Type, State: "running", Pass: s.Pass, Counters: c, Totals: s.Totals,
		ScanFinished: s.Live.ScanFinished || s.State == "finished" || s.State == "copying",
		PendingTasks: int64(s.Live.Pending), DispatchedTasks: int64(s.Live.Leased), RunningTasks: int64(s.Live.Leased),
		SucceedTasks: c.ShardsDone, FailedTasks: c.ShardsFailed, Running: s.Live.Running, Listed: s.Listed, Excluded: s.Excluded}
	js.WriteRace, js.Snapshot = s.WriteRace, s.Snapshot
	if s.State == "finished" {
		js.State = "finished"
	}
	return JobStat{JobStat: js, Live: true, Updated: s.Updated}
}
