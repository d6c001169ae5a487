package adminwire

import (
	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/internal/wire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

// CutoverState converts a cutover's state as the master runs it.
func CutoverState(r master.CutoverRun) *pb.CutoverState {
	return &pb.CutoverState{Job: r.Job, Config: r.Config, Source: r.Source, Dest: r.Dest, DestBucket: r.DestBucket,
		T1: wire.Timestamp(r.T1), T2: wire.Timestamp(r.T2), Phase: string(r.Phase), FullPass: r.FullPass,
		SwitchPass: r.SwitchPass, Updated: wire.Timestamp(r.Updated), Running: r.Running}
}

// ToCutoverState converts back.
func ToCutoverState(s *pb.CutoverState) master.CutoverRun {
	return master.CutoverRun{Running: s.GetRunning(), State: cutover.State{Job: s.GetJob(), Config: s.GetConfig(),
		Source: s.GetSource(), Dest: s.GetDest(), DestBucket: s.GetDestBucket(), T1: wire.Time(s.GetT1()), T2: wire.Time(s.GetT2()),
		Phase: cutover.Phase(s.GetPhase()), FullPass: s.GetFullPass(), SwitchPass: s.GetSwitchPass(), Updated: wire.Time(s.GetUpdated())}}
}

// CutoverReport converts a cutover report.
func CutoverReport(r *cutover.Report) *pb.CutoverReportResponse {
	return &pb.CutoverReportResponse{Job: r.Job, T1: wire.Timestamp(r.T1), T2: wire.Timestamp(r.T2), Phase: string(r.Phase),
		Pass: r.Pass, Copied: r.Copied, CopiedInPass: r.CopiedInPass, Identical: r.Identical, Kept: r.KeptCount,
		Failed: r.FailedCount, Unaccounted: r.Unaccounted, DeletedAtSource: r.DeletedAtSourceCount,
		GoneAtBothEnds: r.GoneAtBothEnds, KeptObjects: cutoverItems(r.Kept), FailedObjects: cutoverItems(r.Failed),
		UnaccountedObjects: cutoverItems(r.Other), DeletedAtSourceObjects: cutoverItems(r.DeletedAtSource),
		Truncated: r.Truncated, Ok: r.OK}
}

// ToCutoverReport converts back.
func ToCutoverReport(r *pb.CutoverReportResponse) *cutover.Report {
	return &cutover.Report{Job: r.GetJob(), T1: wire.Time(r.GetT1()), T2: wire.Time(r.GetT2()), Phase: cutover.Phase(r.GetPhase()),
		Pass: r.GetPass(), Copied: r.GetCopied(), CopiedInPass: r.GetCopiedInPass(), Identical: r.GetIdentical(),
		KeptCount: r.GetKept(), FailedCount: r.GetFailed(), Unaccounted: r.GetUnaccounted(),
		DeletedAtSourceCount: r.GetDeletedAtSource(), GoneAtBothEnds: r.GetGoneAtBothEnds(),
		Kept: toCutoverItems(r.GetKeptObjects()), Failed: toCutoverItems(r.GetFailedObjects()),
		Other: toCutoverItems(r.GetUnaccountedObjects()), DeletedAtSource: toCutoverItems(r.GetDeletedAtSourceObjects()),
		Truncated: r.GetTruncated(), OK: r.GetOk()}
}

func cutoverItems(l []cutover.Item) []*pb.CutoverItem {
	var out []*pb.CutoverItem
	for _, it := range l {
		out = append(out, &pb.CutoverItem{Key: it.Key, Dest: it.Dest, Size: it.Size, Reason: it.Reason, Pass: it.Pass,
			SourceMtime: wire.Timestamp(it.Mtime)})
	}
	return out
}

func toCutoverItems(l []*pb.CutoverItem) []cutover.Item {
	var out []cutover.Item
	for _, it := range l {
		out = append(out, cutover.Item{Key: it.GetKey(), Dest: it.GetDest(), Size: it.GetSize(), Reason: it.GetReason(),
			Pass: it.GetPass(), Mtime: wire.Time(it.GetSourceMtime())})
	}
	return out
}
