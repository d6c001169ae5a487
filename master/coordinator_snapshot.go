package master

import "time"

// Running is one leased shard as the operator sees it.
type Running struct {
	Shard        uint64
	Worker       string
	Attempt      int
	Objects      uint64 // in this grant
	ObjectsDone  uint64
	Bytes        int64
	BytesDone    int64
	LeaseExpires time.Time
}

// Snapshot is the live state of the pass that the tracker does not hold:
// queue, leases and per-shard progress.
type Snapshot struct {
	Pending, Leased int
	ScanFinished    bool
	Finished        bool
	Running         []Running
	Workers         map[string]time.Time
}

// Snapshot returns the live state, for stat and progress bars.
func (c *Coordinator) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Snapshot{Pending: c.broker.Pending(), Leased: c.broker.Busy(), ScanFinished: c.scanDone,
		Finished: c.finished, Workers: make(map[string]time.Time, len(c.workers))}
	for w, t := range c.workers {
		s.Workers[w] = t
	}
	for _, l := range c.broker.Leases() {
		r := Running{Shard: l.Shard, Worker: l.Worker, Attempt: l.Attempt, LeaseExpires: l.Deadline}
		if p := c.progress[l.Token]; p != nil {
			r.Objects, r.ObjectsDone, r.Bytes, r.BytesDone = p.total, p.done, p.bytes, p.doneBytes
		}
		s.Running = append(s.Running, r)
	}
	return s
}
