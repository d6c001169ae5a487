package worker

import (
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// planSingle decides the hashes of a single-part copy of src, whose
// Open answer is in hand, to c's destination.
//
//   - CRC64 always (but under verify=off): the manifest keeps it for later
//     passes and the audit (DESIGN §6), and OSS compares it.
//   - The source's own checksum goes to a destination that validates it:
//     that one check proves source and destination equal, and costs the
//     copier nothing. Where no destination validates it, the copier
//     computes it (CRCs are cheap) to prove it read what the source holds.
//   - MD5 only where an MD5 ETag is the only evidence: a destination that
//     reports neither CRC64 nor validates a checksum, or a source that
//     offers nothing else. MD5 is the dearest hash by far.
func (c *Copier) planSingle(src storage.ObjectInfo) hashPlan {
	if c.o.Settings.Verify == task.VerifyOff {
		return hashPlan{}
	}
	ev := storage.EvidenceOf(c.o.Dst)
	p := hashPlan{crc64: true}
	if algo, _, err := storage.ParseChecksum(src.Checksum); err == nil {
		if ev.Checksums {
			p.declare = src.Checksum
		} else {
			p.check = algo
		}
	}
	if c.o.Settings.Verify == task.VerifySize {
		return p // trusts no ETag: an MD5 would not be compared
	}
	srcOnlyMD5 := storage.IsMD5ETag(src.ETag) && !src.HasCRC64 && src.Checksum == ""
	dstOnlyMD5 := ev.ETagMD5 && !ev.CRC64 && p.declare == ""
	p.md5 = srcOnlyMD5 || dstOnlyMD5
	return p
}

// declareFor is the checksum a new multipart upload of src declares to
// the destination, which then validates the assembled object against it.
func (c *Copier) declareFor(src storage.ObjectInfo) string {
	if c.o.Settings.Verify == task.VerifyOff || !storage.EvidenceOf(c.o.Dst).Checksums {
		return ""
	}
	if _, _, err := storage.ParseChecksum(src.Checksum); err != nil {
		return ""
	}
	return src.Checksum
}

// planPart decides the hashes of each part of the upload st. Parts are
// read by range, so the source's whole-object checksum cannot be checked
// per part; the destination checks it at completion when st declared it.
// Part MD5s are needed only for an MD5-ETag destination without that.
func (c *Copier) planPart(st uploadMode) hashPlan {
	if st.verify == task.VerifyOff {
		return hashPlan{}
	}
	ev := storage.EvidenceOf(c.o.Dst)
	return hashPlan{crc64: true, md5: st.verify != task.VerifySize && ev.ETagMD5 && !ev.CRC64 && st.checksum == ""}
}

// uploadMode is what an upload's parts were hashed for.
type uploadMode struct {
	verify   task.VerifyMode
	checksum string
}
