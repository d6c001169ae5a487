package statjson

import (
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

// Worker is what `ferry workers --json` prints per worker.
type Worker struct {
	Worker           string    `json:"worker"`
	Hostname         string    `json:"hostname,omitempty"`
	Address          string    `json:"address,omitempty"`
	Version          string    `json:"version,omitempty"`
	Concurrency      int       `json:"concurrency"`
	Leases           int       `json:"leases"`
	ObjectsPerSecond float64   `json:"objects_per_second"`
	BytesPerSecond   int64     `json:"bytes_per_second"`
	LastHeartbeat    time.Time `json:"last_heartbeat"`
	Alive            bool      `json:"alive"`
}

// Workers converts the master's worker list.
func Workers(ws []master.WorkerInfo) []Worker {
	out := make([]Worker, len(ws))
	for i, w := range ws {
		out[i] = Worker{Worker: w.Worker, Hostname: w.Hostname, Address: w.Address, Version: w.Version,
			Concurrency: w.Concurrency, Leases: w.Leases, ObjectsPerSecond: w.ObjectsPerSecond,
			BytesPerSecond: w.BytesPerSecond, LastHeartbeat: w.LastSeen, Alive: w.Alive}
	}
	return out
}

// Failed is one failed object as `ferry failed --json` prints it.
type Failed struct {
	Key      string `json:"key"`
	Dest     string `json:"dest"`
	Size     int64  `json:"size"`
	Class    string `json:"class"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
	Pass     uint64 `json:"pass"`
}

// FailedOf converts a tracker entry of a failed object.
func FailedOf(e tracker.Entry) Failed {
	return Failed{Key: e.Key, Dest: e.Dest, Size: e.Size, Class: e.Class, Error: e.Reason, Attempts: e.Attempts, Pass: e.Pass}
}

// IEC is n bytes in binary units (1.5 MiB), as `ferry stat` and the
// dashboard write sizes for people.
func IEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
