package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

// serverCopy makes run's object by copying the base snapshot's copy
// (Object.CopyFrom) inside the destination: no source byte is read, none
// sent. What proves the copy right is the destination's answer about it,
// compared with what the manifest recorded of the base copy when ferry
// verified it:
//
//   - a CRC64 the destination reports (OSS: often, not always, on copies)
//     equal to the manifest's: manifest-crc64;
//   - else, under verify=reread, the copy read back from the destination
//     (not the source) and its CRC64 computed: reread;
//   - else an ETag equal to the base copy's (a single-request copy of a
//     single-part object keeps its MD5 ETag): copy-etag;
//   - else the size only: size.
//
// A copy that disproves itself (other size, other CRC64) is deleted and
// the object streamed from the source instead, as is one the destination
// cannot make (the base object is gone, no server-side copy).
func (c *Copier) serverCopy(ctx context.Context, run *copyRun, sc storage.ServerCopier) (outcome, bool, error) {
	obj := run.obj
	// Unconditional: the key is under a snapshot's own prefix, which only
	// this pass writes, and was absent when looked at. A condition would
	// buy nothing there and cost much on S3, where a conditional copy must
	// go the multipart way (three requests, and an ETag that proves less).
	got, err := sc.Copy(ctx, obj.CopyFrom, obj.Dest, storage.ObjectInfo{})
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, errors.ErrUnsupported):
		return outcome{}, false, nil // stream it instead
	case err != nil:
		return outcome{}, false, fmt.Errorf("server-side copy from %q: %w", obj.CopyFrom, err)
	}
	method, err := c.checkServerCopy(ctx, obj, got)
	var mm *MismatchError
	if errors.As(err, &mm) {
		run.damaged = true
		c.cleanup(ctx, run, err)
		run.damaged = false
		return outcome{}, false, nil
	}
	if err != nil {
		return outcome{}, false, err
	}
	res := task.Result{Status: task.StatusVerified, Method: method, Outcome: task.OutcomeServerCopy,
		DestETag: got.ETag, CRC64: obj.ManifestCRC64, HasCRC64: obj.HasManifestCRC64}
	src := storage.ObjectInfo{Key: obj.Key, Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag}
	return outcome{res: res, src: src}, true, nil
}

// checkServerCopy returns the strongest evidence the destination's answer
// got gives that obj's copy holds the base copy's bytes (see serverCopy).
func (c *Copier) checkServerCopy(ctx context.Context, obj task.Object, got storage.ObjectInfo) (task.Method, error) {
	mode := c.o.Settings.Verify
	if got.Size != obj.Size && (got.Size != 0 || got.ETag != "") {
		return "", &MismatchError{Side: "destination", Check: "size",
			Want: strconv.FormatInt(obj.Size, 10), Got: strconv.FormatInt(got.Size, 10)}
	}
	if got.HasCRC64 && obj.HasManifestCRC64 && mode != task.VerifyOff {
		if got.CRC64 != obj.ManifestCRC64 {
			return "", &MismatchError{Side: "destination", Check: "crc64",
				Want: crc.FormatOSS(obj.ManifestCRC64), Got: crc.FormatOSS(got.CRC64)}
		}
		return task.MethodManifestCRC64, nil
	}
	if mode == task.VerifyReread && obj.HasManifestCRC64 {
		return c.reread(ctx, obj.Dest, Sums{Size: obj.Size, CRC64: obj.ManifestCRC64, HasCRC64: true})
	}
	if mode == task.VerifySize || mode == task.VerifyOff {
		return task.MethodSize, nil
	}
	if obj.CopyFromETag != "" && storage.ETagEqual(got.ETag, obj.CopyFromETag) {
		return task.MethodCopyETag, nil
	}
	return task.MethodSize, nil
}
