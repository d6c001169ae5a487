package adminwire

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/master"
)

// Every field of a cutover's state and report survives the wire; zero
// times stay zero (T2 before the switch).
func TestCutoverRoundTrips(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []master.CutoverRun{
		{Running: true, State: cutover.State{Job: "j", Config: "j.cfg", Source: "s3://a", Dest: "oss://b", DestBucket: "b",
			T1: now, T2: now.Add(time.Hour), Phase: cutover.PhaseSwitching, FullPass: 1, SwitchPass: 3, Updated: now.Add(2 * time.Hour)}},
		{State: cutover.State{Job: "j", T1: now, Phase: cutover.PhaseCopying}},
	}
	for _, r := range tests {
		assert.Equal(t, r, ToCutoverState(CutoverState(r)))
	}

	item := func(k string) cutover.Item {
		return cutover.Item{Key: k, Dest: "d/" + k, Size: 5, Reason: "why", Pass: 2, Mtime: now}
	}
	rep := &cutover.Report{Job: "j", T1: now, T2: now.Add(time.Hour), Phase: cutover.PhaseSwitched, Pass: 2, Copied: 1,
		CopiedInPass: 2, Identical: 3, KeptCount: 4, FailedCount: 5, Unaccounted: 6, DeletedAtSourceCount: 7, GoneAtBothEnds: 8,
		Kept: []cutover.Item{item("k")}, Failed: []cutover.Item{item("f")}, Other: []cutover.Item{{Reason: "pass 2 still running"}},
		DeletedAtSource: []cutover.Item{item("d"), item("e")}, Truncated: true, OK: true}
	assert.Equal(t, rep, ToCutoverReport(CutoverReport(rep)))
	assert.Equal(t, &cutover.Report{Job: "j"}, ToCutoverReport(CutoverReport(&cutover.Report{Job: "j"})))
}
