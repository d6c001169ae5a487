package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestCutover runs a guided cutover (DESIGN §10) with the real binary: an
// S3 source (versitygw, direct) and an OSS-flavour destination (through the
// OSS look-alike proxy). Between T1 and T2 the "application" adds and
// changes source objects, rewrites one in place keeping its mtime, and
// deletes one; OSS "mirrors back" some new objects (identical bytes at the
// destination before the pass); after T2 the application writes at the
// destination, to keys the source also changed (other sizes) and to a new
// key. The report's counts are then checked against a comparison of both
// buckets made here with the plain SDK and sha256, not with ferry's code.
func TestCutover(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.s3Side(t, "cutover-src")
	dst := env.ossSide(t, "cutover-dst")
	sc, dc := src.direct(), env.viaProxy()
	ctx := context.Background()

	initial := []object{
		newObject("keep/unchanged-1", randomBytes(1000, 1)),
		newObject("keep/unchanged-2", randomBytes(2000, 2)),
		newObject("changed/a", randomBytes(3000, 3)),
		newObject("changed/app-also", randomBytes(4000, 4)),
		newObject("inplace/r", randomBytes(5000, 5)),
		newObject("deleted/d", randomBytes(6000, 6)),
		newObject("deleted/both", randomBytes(600, 66)),
	}
	putObjects(t, sc, src.bucket, initial)
	// inplace/r is an old object: ferry's copy of it is newer, so only
	// knowing that copy is ferry's own lets its in-place rewrite through.
	file := filepath.Join(env.srv.Root, src.bucket, "inplace", "r")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}

	job := "cutover"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job), src.lines("src")...), dst.lines("dest")...)...)
	data := dataDir(t)

	// 1. start: T1, full copy, the operator's steps.
	r := runFerry(t, "cutover", "start", "--data-dir", data, cfg)
	wantExit(t, r, 0)
	for _, want := range []string{"T1 = ", "Mirroring-based Back-to-origin", "ossutil website --method put oss://" + dst.bucket,
		"ferry cutover switch " + job + " --at T2"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cutover start should print %q:\n%s", want, r)
		}
	}
	st := cutoverStatus(t, data, job)
	if st.Phase != "copied" || st.T1.IsZero() {
		t.Fatalf("after start: phase %q T1 %s; want copied with T1 recorded", st.Phase, st.T1)
	}
	afterFull := snapshot(t, dc, dst.bucket)
	if len(afterFull) != len(initial) {
		t.Fatalf("full copy: %d objects at the destination, want %d", len(afterFull), len(initial))
	}

	// 2. The application between T1 and T2, at the source.
	rOld := head(t, sc, src.bucket, "inplace/r")
	rewritten := newObject("inplace/r", randomBytes(5000, 55)) // same size, other bytes
	newSrc := []object{
		newObject("new/plain", randomBytes(700, 7)),
		newObject("new/mirrored", randomBytes(800, 8)),
		newObject("new/app-also", randomBytes(900, 9)),
		newObject("changed/a", randomBytes(3100, 31)),
		newObject("changed/app-also", randomBytes(4100, 41)),
		rewritten,
	}
	putObjects(t, sc, src.bucket, newSrc)
	// Rewritten in place with its old modification time (a restore that
	// keeps times): versitygw's posix backend reports the file's mtime.
	if err := os.Chtimes(file, rOld.mtime, rOld.mtime); err != nil {
		t.Fatal(err)
	}
	if now := head(t, sc, src.bucket, "inplace/r"); !now.mtime.Equal(old) || now.etag == rOld.etag {
		t.Fatalf("precondition: inplace/r should have a new ETag and its old mtime %s; got %s %s", rOld.mtime, now.mtime, now.etag)
	}
	for _, k := range []string{"deleted/d", "deleted/both"} {
		if _, err := sc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src.bucket), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// OSS fetched new/mirrored back from the origin: the same bytes, at
	// the destination before the pass.
	putObjects(t, dc, dst.bucket, []object{newSrc[1]})
	// Older than the source's: a rewrite would show in its mtime (and the
	// policy alone would replace it; only proof of identity spares it).
	if err := os.Chtimes(filepath.Join(env.srv.Root, dst.bucket, "new", "mirrored"), old, old); err != nil {
		t.Fatal(err)
	}

	// T2 must be a whole second after the source changes (times are whole
	// seconds and the window is [.., T2)): wait for the clock, not for a
	// goroutine.
	t2 := nextSecond(head(t, sc, src.bucket, "changed/app-also").mtime)
	// 3. The application after T2, at the destination: keys the source
	// also changed (other sizes) and a new key.
	appWrites := []object{
		newObject("changed/app-also", randomBytes(4200, 42)),
		newObject("new/app-also", randomBytes(950, 95)),
		newObject("app/only-at-destination", randomBytes(100, 10)),
	}
	putObjects(t, dc, dst.bucket, appWrites)
	// The application deleted one of the objects it deleted at the source
	// at the destination too.
	if _, err := dc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(dst.bucket), Key: aws.String("deleted/both")}); err != nil {
		t.Fatal(err)
	}
	beforePass := snapshot(t, dc, dst.bucket)

	r = runFerry(t, "cutover", "switch", "--data-dir", data, job, "--at", strconv.FormatInt(t2.Unix(), 10))
	wantExit(t, r, 0)

	// 4. finish: the report, text and JSON.
	r = runFerry(t, "cutover", "finish", "--data-dir", data, "--json", job)
	wantExit(t, r, 0)
	var rep struct {
		Copied, Identical, Kept, Failed, Unaccounted int64
		CopiedInPass                                 int64                  `json:"copied_in_pass"`
		DeletedAtSource                              int64                  `json:"deleted_at_source"`
		GoneAtBothEnds                               int64                  `json:"gone_at_both_ends"`
		KeptObjects                                  []struct{ Key string } `json:"kept_objects"`
		DeletedObjects                               []struct{ Key string } `json:"deleted_at_source_objects"`
		OK                                           bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("cutover finish --json: %v\n%s", err, r)
	}

	// The independent account: every source object by what the two
	// buckets hold now and held before.
	final, source := snapshot(t, dc, dst.bucket), snapshot(t, sc, src.bucket)
	var copiedEarlier, copiedNow, identical, kept int64
	var keptKeys, deletedKeys []string
	for k, s := range source {
		d, ok := final[k]
		switch {
		case !ok:
			t.Errorf("source object %q is missing at the destination", k)
		case d.sum != s.sum:
			kept++
			keptKeys = append(keptKeys, k)
		case afterFull[k].sum == s.sum:
			copiedEarlier++
		case beforePass[k].sum == s.sum:
			identical++
			if d.etag != beforePass[k].etag || !d.mtime.Equal(beforePass[k].mtime) {
				t.Errorf("%q was already identical at the destination but was rewritten: ETag %s -> %s, mtime %s -> %s",
					k, beforePass[k].etag, d.etag, beforePass[k].mtime, d.mtime)
			}
		default:
			copiedNow++
		}
	}
	var goneBoth int64
	for k := range afterFull {
		_, atSrc := source[k]
		_, before := beforePass[k]
		_, after := final[k]
		switch {
		case atSrc:
		case before && !after:
			t.Errorf("%q, deleted at the source, was deleted at the destination: a cutover never deletes", k)
		case after:
			deletedKeys = append(deletedKeys, k)
		default:
			goneBoth++
		}
	}
	for _, w := range appWrites {
		if final[w.Key].sum != beforePass[w.Key].sum {
			t.Errorf("the application's write %q at the destination was replaced", w.Key)
		}
	}
	// What the scenario makes, so the comparison above cannot pass vacuously.
	want := map[string]int64{"copied earlier": 2, "copied now": 3, "identical": 1, "kept": 2, "deleted": 1, "gone at both ends": 1}
	got := map[string]int64{"copied earlier": copiedEarlier, "copied now": copiedNow, "identical": identical, "kept": kept,
		"deleted": int64(len(deletedKeys)), "gone at both ends": goneBoth}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("independent comparison: %s %d, want %d (the scenario)", k, got[k], w)
		}
	}
	if rep.Copied != copiedEarlier+copiedNow || rep.CopiedInPass != copiedNow || rep.Identical != identical ||
		rep.Kept != kept || rep.DeletedAtSource != int64(len(deletedKeys)) || rep.GoneAtBothEnds != goneBoth || rep.Failed != 0 || rep.Unaccounted != 0 || !rep.OK {
		t.Errorf("report copied %d (in pass %d), identical %d, kept %d, deleted at source %d, failed %d, unaccounted %d, ok %v;\n"+
			"buckets say copied %d (in pass %d), identical %d, kept %d, deleted %d\n%s",
			rep.Copied, rep.CopiedInPass, rep.Identical, rep.Kept, rep.DeletedAtSource, rep.Failed, rep.Unaccounted, rep.OK,
			copiedEarlier+copiedNow, copiedNow, identical, kept, len(deletedKeys), r)
	}
	if g := keysOf(rep.KeptObjects); !sameSet(g, keptKeys) {
		t.Errorf("report lists kept %v, want %v", g, keptKeys)
	}
	if g := keysOf(rep.DeletedObjects); !sameSet(g, deletedKeys) {
		t.Errorf("report lists deleted at the source %v, want %v", g, deletedKeys)
	}
	if final["inplace/r"].sum != sha256.Sum256(rewritten.data) {
		t.Errorf("inplace/r, rewritten at the source with its old mtime, was not copied")
	}

	text := runFerry(t, "cutover", "finish", "--data-dir", data, job)
	wantExit(t, text, 0)
	for _, want := range []string{`KEPT "changed/app-also"`, `KEPT "new/app-also"`, `DELETED-AT-SOURCE "deleted/d"`, "RESULT: OK"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("cutover finish should say %q:\n%s", want, text)
		}
	}
}

// TestCutoverRefuses checks the guards: a policy that could clobber the
// application's writes (also with --master, before the config is sent),
// T2 before T1 or in the future.
func TestCutoverRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srcDir := filepath.Join(dir, "src")
	writeLocal(t, srcDir, []object{newObject("a", randomBytes(10, 1))})
	base := append(jobLines("refuse"), localSide(srcDir+"/").lines("src")...)
	base = append(base, localSide(filepath.Join(dir, "dst")+"/").lines("dest")...)
	data := dataDir(t)

	bad := writeJob(t, dir, "bad.cfg", append(base, "overwritePolicy=always")...)
	r := runFerry(t, "cutover", "start", "--data-dir", data, bad)
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "overwritePolicy=always can replace objects the application writes") {
		t.Errorf("overwritePolicy=always should be refused, naming the risk:\n%s", r)
	}
	r = runFerry(t, "cutover", "start", "--data-dir", data, "--master", "localhost:1", bad)
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "overwritePolicy=always can replace") {
		t.Errorf("with --master the policy should be refused before the config leaves this machine:\n%s", r)
	}

	good := writeJob(t, dir, "good.cfg", base...)
	wantExit(t, runFerry(t, "cutover", "start", "--data-dir", data, good), 0)
	t1 := cutoverStatus(t, data, "refuse").T1
	for at, want := range map[string]string{
		strconv.FormatInt(t1.Unix(), 10):                        "is not after T1",
		strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10): "is in the future",
		"soon": "Unix seconds",
	} {
		r := runFerry(t, "cutover", "switch", "--data-dir", data, "refuse", "--at", at)
		wantExit(t, r, 2)
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--at %s: stderr should say %q:\n%s", at, want, r)
		}
	}
	if st := cutoverStatus(t, data, "refuse"); st.Phase != "copied" || !st.T1.Equal(t1) {
		t.Errorf("refused switches changed the state: phase %q T1 %s", st.Phase, st.T1)
	}
	r = runFerry(t, "cutover", "finish", "--data-dir", data, "refuse")
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "cutover switch refuse --at T2") {
		t.Errorf("finish before switch should name the next step:\n%s", r)
	}
}

type cutoverState struct {
	Phase string
	T1    time.Time
}

func cutoverStatus(t *testing.T, data, job string) cutoverState {
	t.Helper()
	r := runFerry(t, "cutover", "status", "--json", "--data-dir", data, job)
	wantExit(t, r, 0)
	var s cutoverState
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("cutover status --json: %v\n%s", err, r)
	}
	return s
}

// seen is one object as a plain client sees it.
type seen struct {
	sum   [32]byte
	etag  string
	mtime time.Time
}

// snapshot reads every object of bucket with c: sha256 of the bytes,
// ETag, Last-Modified.
func snapshot(t *testing.T, c *s3.Client, bucket string) map[string]seen {
	t.Helper()
	ctx := context.Background()
	out := map[string]seen{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			if err != nil {
				t.Fatalf("get %s/%s: %v", bucket, k, err)
			}
			b, err := io.ReadAll(get.Body)
			_ = get.Body.Close()
			if err != nil {
				t.Fatalf("read %s/%s: %v", bucket, k, err)
			}
			out[k] = seen{sum: sha256.Sum256(b), etag: aws.ToString(get.ETag), mtime: aws.ToTime(get.LastModified)}
		}
	}
	return out
}

func head(t *testing.T, c *s3.Client, bucket, key string) seen {
	t.Helper()
	h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head %s/%s: %v", bucket, key, err)
	}
	return seen{etag: aws.ToString(h.ETag), mtime: aws.ToTime(h.LastModified)}
}

// nextSecond waits until the clock is in a whole second after m and
// returns that second. The margin is for file timestamps: Linux stamps
// them from a coarse clock that lags the one time.Now reads by up to a
// scheduler tick, so a write just after the second would still carry the
// second before (and look as old as the source).
func nextSecond(m time.Time) time.Time {
	t2 := m.Truncate(time.Second).Add(time.Second)
	const margin = 100 * time.Millisecond
	for time.Now().Before(t2.Add(margin)) {
		time.Sleep(time.Until(t2.Add(margin)))
	}
	return t2
}

func keysOf(l []struct{ Key string }) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = x.Key
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

// TestCutoverStartSurvivesKill kills `ferry cutover start` with SIGKILL
// mid-copy: T1 was recorded before the copy began and the next start
// keeps it, resumes, and ends the full copy.
func TestCutoverStartSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srcDir, dstDir := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	objs := make([]object, 8)
	for i := range objs {
		objs[i] = newObject("o"+strconv.Itoa(i), randomBytes(MiB, uint64(i)))
	}
	writeLocal(t, srcDir, objs)
	// 2 MiB/s for 8 MiB: about four seconds, time to kill it midway.
	cfg := writeJob(t, dir, "job.cfg", append(append(jobLines("killed", "maxBytesPerSecond=2m"),
		localSide(srcDir+"/").lines("src")...), localSide(dstDir+"/").lines("dest")...)...)
	data := dataDir(t)

	p := startFerry(t, "cutover", "start", "--data-dir", data, cfg)
	waitStatus(t, p, data, "killed", 30*time.Second, "bytes sent", func(s status) bool { return s.BytesSent > 0 })
	p.Kill()
	st := cutoverStatus(t, data, "killed")
	if st.Phase != "copying" || st.T1.IsZero() {
		t.Fatalf("after kill -9: phase %q T1 %s; want copying with T1 recorded", st.Phase, st.T1)
	}

	r := runFerry(t, "cutover", "start", "--data-dir", data, cfg)
	wantExit(t, r, 0)
	after := cutoverStatus(t, data, "killed")
	if after.Phase != "copied" || !after.T1.Equal(st.T1) {
		t.Errorf("after the second start: phase %q T1 %s; want copied with T1 still %s", after.Phase, after.T1, st.T1)
	}
	// The local backend's in-flight files a kill leaves (.ferry-tmp-*,
	// storage/local) are not objects; the objects must all be there.
	got := slices.DeleteFunc(slices.Sorted(maps.Keys(listLocal(t, dstDir))), func(k string) bool { return strings.HasPrefix(k, ".ferry-tmp-") })
	want := make([]string, len(objs))
	for i, o := range objs {
		want[i] = o.Key
	}
	if !slices.Equal(got, want) {
		t.Errorf("destination objects after the resumed full copy: %v, want %v", got, want)
	}
	r = runFerry(t, "cutover", "start", "--data-dir", data, cfg)
	wantExit(t, r, 2)
	if !strings.Contains(r.stderr, "the full copy of this cutover is done") {
		t.Errorf("a third start should say the full copy is done and name the next step:\n%s", r)
	}
}
