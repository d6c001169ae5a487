package worker

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

// decide, the overwrite policy without I/O: every policy against an
// absent, identical, newer, older and unprovable destination.
func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	const md5a, md5b = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	src := storage.ObjectInfo{Size: 10, ModTime: t0, ETag: md5a}
	withCRC := func(o storage.ObjectInfo, c uint64) storage.ObjectInfo { o.CRC64, o.HasCRC64 = c, true; return o }
	at := func(o storage.ObjectInfo, m time.Time) storage.ObjectInfo { o.ModTime = m; return o }
	sized := func(o storage.ObjectInfo, n int64) storage.ObjectInfo { o.Size = n; return o }
	tagged := func(o storage.ObjectInfo, e string) storage.ObjectInfo { o.ETag = e; return o }
	newer, older := t0.Add(time.Hour), t0.Add(-time.Hour)
	dstNewer := tagged(at(src, newer), md5b)
	dstOlder := tagged(at(src, older), md5b)

	ifAbsent := storage.IfAbsent()
	copyIfAbsent := decision{act: actCopy, cond: ifAbsent}
	copyIfMatch := func(d storage.ObjectInfo) decision { return decision{act: actCopy, cond: storage.IfMatch(d)} }
	ident := func(m task.Method) decision { return decision{act: actIdentical, method: m, reason: ReasonIdentical} }
	keep := func(r string) decision { return decision{act: actKeep, reason: r} }
	all := []task.OverwritePolicy{task.OverwriteNever, task.OverwriteIfSourceNewer, task.OverwriteIfDifferent, task.OverwriteAlways}

	type row struct {
		name   string
		s      sides
		expect map[task.OverwritePolicy]decision
	}
	same := func(d decision) map[task.OverwritePolicy]decision {
		m := map[task.OverwritePolicy]decision{}
		for _, p := range all {
			m[p] = d
		}
		return m
	}
	for _, tc := range []row{
		{"absent", sides{src: src}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: copyIfAbsent, task.OverwriteIfSourceNewer: copyIfAbsent,
			task.OverwriteIfDifferent: copyIfAbsent, task.OverwriteAlways: {act: actCopy},
		}},
		{"identical by crc64, destination older", sides{src: withCRC(src, 7), dst: ptr(withCRC(dstOlder, 7))}, same(ident(task.MethodCRC64))},
		{"identical by the manifest's crc64", sides{src: src, dst: ptr(withCRC(dstOlder, 7)), manifestCRC64: 7, hasManifest: true}, same(ident(task.MethodCRC64))},
		{"identical by stored checksum", sides{src: func() storage.ObjectInfo { o := src; o.Checksum = "crc32c:AAAA"; return o }(),
			dst: ptr(func() storage.ObjectInfo { o := dstOlder; o.Checksum = "crc32c:AAAA"; return o }())}, same(ident(task.MethodChecksum))},
		{"identical by md5 etag", sides{src: src, dst: ptr(tagged(dstOlder, `"`+md5a+`"`)), trustETags: true}, same(ident(task.MethodMD5))},
		{"md5 etags not trusted (verify=size)", sides{src: src, dst: ptr(tagged(dstOlder, md5a))}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: copyIfMatch(tagged(dstOlder, md5a)),
			task.OverwriteIfDifferent: copyIfMatch(tagged(dstOlder, md5a)), task.OverwriteAlways: {act: actCopy},
		}},
		{"multipart etags equal prove nothing", sides{src: tagged(src, md5a+"-2"), dst: ptr(tagged(dstNewer, md5a+"-2")), trustETags: true}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
			task.OverwriteIfDifferent: keep(ReasonSameSize), task.OverwriteAlways: {act: actCopy},
		}},
		{"same size, newer, unprovable", sides{src: src, dst: ptr(dstNewer)}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
			task.OverwriteIfDifferent: keep(ReasonSameSize), task.OverwriteAlways: {act: actCopy},
		}},
		{"same size, newer, md5 etags differ", sides{src: src, dst: ptr(dstNewer), trustETags: true}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
			task.OverwriteIfDifferent: copyIfMatch(dstNewer), task.OverwriteAlways: {act: actCopy},
		}},
		{"same second is as new", sides{src: at(src, t0.Add(900*time.Millisecond)), dst: ptr(at(dstNewer, t0))}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
			task.OverwriteIfDifferent: keep(ReasonSameSize), task.OverwriteAlways: {act: actCopy},
		}},
		{"same second, proven different: replaced", sides{src: at(withCRC(src, 7), t0.Add(900*time.Millisecond)), dst: ptr(at(withCRC(dstNewer, 8), t0))},
			map[task.OverwritePolicy]decision{
				task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: copyIfMatch(at(withCRC(dstNewer, 8), t0)),
				task.OverwriteIfDifferent: copyIfMatch(at(withCRC(dstNewer, 8), t0)), task.OverwriteAlways: {act: actCopy},
			}},
		{"other size, newer (issue 11's data loss)", sides{src: src, dst: ptr(sized(dstNewer, 99))}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
			task.OverwriteIfDifferent: copyIfMatch(sized(dstNewer, 99)), task.OverwriteAlways: {act: actCopy},
		}},
		{"crc64 differs, newer", sides{src: withCRC(src, 7), dst: ptr(withCRC(dstNewer, 8))}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
			task.OverwriteIfDifferent: copyIfMatch(withCRC(dstNewer, 8)), task.OverwriteAlways: {act: actCopy},
		}},
		{"other size, older", sides{src: src, dst: ptr(sized(dstOlder, 99))}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: copyIfMatch(sized(dstOlder, 99)),
			task.OverwriteIfDifferent: copyIfMatch(sized(dstOlder, 99)), task.OverwriteAlways: {act: actCopy},
		}},
		{"newer, still ferry's earlier copy (source rewritten in place with its old mtime)", sides{src: src, dst: ptr(sized(dstNewer, 99)), priorDestETag: md5b},
			map[task.OverwritePolicy]decision{
				task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: copyIfMatch(sized(dstNewer, 99)),
				task.OverwriteIfDifferent: copyIfMatch(sized(dstNewer, 99)), task.OverwriteAlways: {act: actCopy},
			}},
		{"newer, another object than ferry's earlier copy", sides{src: src, dst: ptr(sized(dstNewer, 99)), priorDestETag: md5a},
			map[task.OverwritePolicy]decision{
				task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNewer),
				task.OverwriteIfDifferent: copyIfMatch(sized(dstNewer, 99)), task.OverwriteAlways: {act: actCopy},
			}},
		{"destination mtime unknown", sides{src: src, dst: ptr(at(dstOlder, time.Time{}))}, map[task.OverwritePolicy]decision{
			task.OverwriteNever: keep(ReasonExists), task.OverwriteIfSourceNewer: keep(ReasonNoMtime),
			task.OverwriteIfDifferent: copyIfMatch(at(dstOlder, time.Time{})), task.OverwriteAlways: {act: actCopy},
		}},
	} {
		for _, p := range all {
			t.Run(tc.name+"/"+string(p), func(t *testing.T) {
				assert.Equal(t, tc.expect[p], decide(p, tc.s))
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

// A create-only write refused on a retry (retry.ErrRefusedAfterRetry) may
// have met its own first attempt, stored with the answer lost: the copier
// compares what is there with what it sent. Its own copy is verified;
// anyone else's is kept, untouched.
func TestRefusedAfterRetry(t *testing.T) {
	app := []byte("the application's")
	for _, tc := range []struct {
		name   string
		theirs bool
	}{{"our own first attempt: copied", false}, {"someone else's object: kept", true}} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newLocal(t), newLocal(t)
			data := randomBytes(3000, 93)
			putObj(t, src, "k", data)
			h := hook(dst)
			h.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
				require.NoError(t, err, "the first attempt lands")
				if tc.theirs {
					putObj(t, dst, "k", app)
				}
				return storage.ObjectInfo{}, fmt.Errorf("put: %w: %w", retry.ErrRefusedAfterRetry, storage.ErrPrecondition)
			}
			res, err := newCopier(t, Options{Src: src, Dst: h}).Copy(t.Context(), "job", object(t, src, "k", "k"))
			require.NoError(t, err)
			assert.Equal(t, 1, res.Attempts)
			if tc.theirs {
				assert.Equal(t, task.OutcomeKept, res.Outcome, res.Reason)
				sameBytes(t, app, getObj(t, dst, "k"))
				return
			}
			requireVerified(t, res, err, data)
			assert.Equal(t, task.MethodReread, res.Method, "a local file has no digest: read back")
			sameBytes(t, data, getObj(t, dst, "k"))
		})
	}
}
