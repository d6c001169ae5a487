package wire

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/task"
)

// Round trips: every field survives the wire.
func TestRoundTrips(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	obj := task.Object{Key: "a b/ключ", Dest: "x/a b/ключ", Size: 42, ModTime: now, ETag: "ABC", CRC64: 1<<63 + 5, HasCRC64: true,
		ManifestCRC64: 1<<62 + 7, HasManifestCRC64: true}
	assert.Equal(t, obj, ToObject(Object(obj)))
	assert.Equal(t, task.Object{Key: "k"}, ToObject(Object(task.Object{Key: "k"})), "zero time stays zero")

	g := task.Grant{Shard: task.Shard{Job: "j", Pass: 3, ID: 9, Objects: []task.Object{obj, obj}}, Token: 77, Deadline: now, Attempt: 2, Audit: true}
	assert.Equal(t, g, ToGrant(Grant(g)))

	r := task.Result{Key: "k", Dest: "d", Status: task.StatusFailed, Method: task.MethodCRC64, Reason: "why", Class: "permanent",
		Size: 9, ModTime: now, ETag: "e", DestETag: "E", CRC64: 7, HasCRC64: true, BytesRead: 5, BytesSent: 4, Attempts: 3, Duration: time.Second}
	assert.Equal(t, r, ToResult(Result(r)))
	assert.Equal(t, []task.Result{r, r}, ToResults(Results([]task.Result{r, r})))
	kept := task.Result{Key: "k", Status: task.StatusSkipped, Outcome: task.OutcomeKept, Reason: "newer"}
	assert.Equal(t, kept, ToResult(Result(kept)))

	u := task.UploadState{Job: "j", Key: "k", Dest: "d", UploadID: "u", PartSize: 5 << 20, Size: 11 << 20, ModTime: now, ETag: "e",
		Parts: []task.PartState{{Number: 1, Size: 5 << 20, ETag: "p1", CRC64: 1, MD5: "m1"}}, Created: now,
		Checksum: "crc64nvme:WZvzgmIcGKc=", Verify: "size"}
	assert.Equal(t, u, ToUpload(Upload(u)))
}
