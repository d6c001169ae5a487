// Package wire converts between package task's plain values and their
// protobuf messages. It and its subpackage adminwire (the admin service's
// messages) are the only translation layer: master/server, worker/client
// and admin/remote call them, core logic never sees proto types (DESIGN
// §2).
package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
)

// Timestamp converts a time; the zero time (never, unknown) is left unset.
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Time is Timestamp's inverse: unset is the zero time.
func Time(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// Object converts a task.Object.
func Object(o task.Object) *pb.Object {
	return &pb.Object{Key: o.Key, Dest: o.Dest, Size: o.Size, ModTime: Timestamp(o.ModTime), Etag: o.ETag, Crc64: o.CRC64, HasCrc64: o.HasCRC64,
		ManifestCrc64: o.ManifestCRC64, HasManifestCrc64: o.HasManifestCRC64,
		PriorDestEtag: o.PriorDestETag, CopyFrom: o.CopyFrom, CopyFromEtag: o.CopyFromETag, NeedCrc64: o.NeedCRC64}
}

// ToObject converts back.
func ToObject(o *pb.Object) task.Object {
	return task.Object{Key: o.GetKey(), Dest: o.GetDest(), Size: o.GetSize(), ModTime: Time(o.GetModTime()),
		ETag: o.GetEtag(), CRC64: o.GetCrc64(), HasCRC64: o.GetHasCrc64(),
		ManifestCRC64: o.GetManifestCrc64(), HasManifestCRC64: o.GetHasManifestCrc64(),
		PriorDestETag: o.GetPriorDestEtag(), CopyFrom: o.GetCopyFrom(), CopyFromETag: o.GetCopyFromEtag(), NeedCRC64: o.GetNeedCrc64()}
}

// Grant converts a task.Grant.
func Grant(g task.Grant) *pb.Grant {
	objs := make([]*pb.Object, len(g.Objects))
	for i, o := range g.Objects {
		objs[i] = Object(o)
	}
	return &pb.Grant{Job: g.Job, Pass: g.Pass, Shard: g.ID, Objects: objs, Token: g.Token,
		Deadline: Timestamp(g.Deadline), Attempt: int32(g.Attempt), Audit: g.Audit}
}

// ToGrant converts back.
func ToGrant(g *pb.Grant) task.Grant {
	objs := make([]task.Object, len(g.GetObjects()))
	for i, o := range g.GetObjects() {
		objs[i] = ToObject(o)
	}
	return task.Grant{Shard: task.Shard{Job: g.GetJob(), Pass: g.GetPass(), ID: g.GetShard(), Objects: objs},
		Token: g.GetToken(), Deadline: Time(g.GetDeadline()), Attempt: int(g.GetAttempt()), Audit: g.GetAudit()}
}

// Result converts a task.Result.
func Result(r task.Result) *pb.Result {
	return &pb.Result{Key: r.Key, Dest: r.Dest, Status: pb.Status(r.Status), Method: string(r.Method),
		Reason: r.Reason, Class: r.Class, Size: r.Size, ModTime: Timestamp(r.ModTime), Etag: r.ETag, DestEtag: r.DestETag,
		Crc64: r.CRC64, HasCrc64: r.HasCRC64, BytesRead: r.BytesRead, BytesSent: r.BytesSent,
		Attempts: int32(r.Attempts), Duration: durationpb.New(r.Duration),
		Outcome: string(r.Outcome)}
}

// ToResult converts back.
func ToResult(r *pb.Result) task.Result {
	return task.Result{Key: r.GetKey(), Dest: r.GetDest(), Status: task.Status(r.GetStatus()),
		Method: task.Method(r.GetMethod()), Reason: r.GetReason(), Class: r.GetClass(), Size: r.GetSize(),
		ModTime: Time(r.GetModTime()), ETag: r.GetEtag(), DestETag: r.GetDestEtag(), CRC64: r.GetCrc64(),
		HasCRC64: r.GetHasCrc64(), BytesRead: r.GetBytesRead(), BytesSent: r.GetBytesSent(),
		Attempts: int(r.GetAttempts()), Duration: r.GetDuration().AsDuration(),
		Outcome: task.Outcome(r.GetOutcome())}
}

// Results converts a batch.
func Results(rs []task.Result) []*pb.Result {
	out := make([]*pb.Result, len(rs))
	for i, r := range rs {
		out[i] = Result(r)
	}
	return out
}

// ToResults converts a batch back.
func ToResults(rs []*pb.Result) []task.Result {
	out := make([]task.Result, len(rs))
	for i, r := range rs {
		out[i] = ToResult(r)
	}
	return out
}

// Upload converts a task.UploadState.
func Upload(u task.UploadState) *pb.UploadState {
	parts := make([]*pb.PartState, len(u.Parts))
	for i, p := range u.Parts {
		parts[i] = &pb.PartState{Number: int32(p.Number), Size: p.Size, Etag: p.ETag, Crc64: p.CRC64, Md5: p.MD5}
	}
	return &pb.UploadState{Job: u.Job, Key: u.Key, Dest: u.Dest, UploadId: u.UploadID, PartSize: u.PartSize,
		Size: u.Size, ModTime: Timestamp(u.ModTime), Etag: u.ETag, Parts: parts, Created: Timestamp(u.Created),
		Checksum: u.Checksum, Verify: string(u.Verify)}
}

// ToUpload converts back.
func ToUpload(u *pb.UploadState) task.UploadState {
	parts := make([]task.PartState, len(u.GetParts()))
	for i, p := range u.GetParts() {
		parts[i] = task.PartState{Number: int(p.GetNumber()), Size: p.GetSize(), ETag: p.GetEtag(), CRC64: p.GetCrc64(), MD5: p.GetMd5()}
	}
	return task.UploadState{Job: u.GetJob(), Key: u.GetKey(), Dest: u.GetDest(), UploadID: u.GetUploadId(),
		PartSize: u.GetPartSize(), Size: u.GetSize(), ModTime: Time(u.GetModTime()), ETag: u.GetEtag(),
		Parts: parts, Created: Time(u.GetCreated()), Checksum: u.GetChecksum(), Verify: task.VerifyMode(u.GetVerify())}
}

// Leases converts the leases a worker names in a heartbeat.
func Leases(ls []task.LeaseRef) []*pb.HeldLease {
	out := make([]*pb.HeldLease, len(ls))
	for i, l := range ls {
		out[i] = &pb.HeldLease{Job: l.Job, Pass: l.Pass, Token: l.Token, Shard: l.Shard}
	}
	return out
}

// ToLeases is Leases' inverse.
func ToLeases(ls []*pb.HeldLease) []task.LeaseRef {
	out := make([]task.LeaseRef, len(ls))
	for i, l := range ls {
		out[i] = task.LeaseRef{Job: l.GetJob(), Pass: l.GetPass(), Token: l.GetToken(), Shard: l.GetShard()}
	}
	return out
}
