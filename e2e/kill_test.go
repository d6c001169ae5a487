package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/worker"
)

// TestKillMidMultipart kills `ferry run` with SIGKILL in the middle of a
// throttled multipart upload, checks what a dead process leaves behind (an
// unfinished upload, no object), and that the next run resumes the upload
// instead of starting over. While the first run goes on, `ferry stat` must
// answer at once from the status file (the database is locked).
func TestKillMidMultipart(t *testing.T) {
	cases := []struct {
		name string
		dst  string
	}{
		{"local to s3", "s3"},
		// Behind the proxy the parts stored by each run can be counted.
		{"local to oss", "oss"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			env := newS3Env(t)
			const size = 40 * MiB
			const key = "big/object 40MiB.bin"
			obj := newObject(key, randomBytes(size, 42))
			src := localSide(t.TempDir())
			writeLocal(t, src.dir, []object{obj})
			var dst side
			if tc.dst == "oss" {
				dst = env.ossSide(t, "dest")
			} else {
				dst = env.s3Side(t, "dest")
			}
			job := "kill-multipart-" + tc.dst
			// One part at a time at 8 MiB/s: a part is stored every 0.6 s and
			// the whole object takes 5 s. (With several parts in flight they
			// share the rate and all complete at once, late.)
			cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job,
				"maxBytesPerSecond=8m", "partsInFlight=1"), src.lines("src")...), dst.lines("dest")...)...)
			data := dataDir(t)
			totalParts := (size + partSize - 1) / partSize

			p := startFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)

			// Scenario: stat while running.
			waitStatus(t, p, data, job, 30*time.Second, "bytes sent", func(s status) bool { return s.BytesSent > 0 })
			st := runFerry(t, "stat", "--data-dir", data)
			if st.code != 0 || st.elapsed > time.Second {
				t.Errorf("ferry stat during a run: exit %d after %s; want 0 within 1s:\n%s", st.code, st.elapsed, st)
			}
			if !strings.Contains(st.stdout, "JobState: Running\n") {
				t.Errorf("ferry stat during a run does not say JobState: Running:\n%s", st.stdout)
			}
			if n := statNumber(st.stdout, "RunningTasks"); n < 1 {
				t.Errorf("ferry stat during a run: RunningTasks %d, want >= 1:\n%s", n, st.stdout)
			}
			if !strings.Contains(st.stdout, "JobName: "+job+"\n") {
				t.Errorf("ferry stat during a run does not name the job:\n%s", st.stdout)
			}

			// Past 16 MiB at least three parts are stored, so a resumed run
			// needs to read at most 25 of the 40 MiB.
			s := waitStatus(t, p, data, job, 30*time.Second, "more than 16 MiB sent",
				func(s status) bool { return s.BytesSent > 16*MiB })
			killed := p.Kill()
			if killed.code != 128+9 {
				t.Fatalf("ferry ended by itself before the kill (after %d bytes):\n%s", s.BytesSent, killed)
			}
			killedAt := time.Now()

			// What the dead process left: an unfinished upload, no object.
			c := dst.direct()
			ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(dst.bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].Key) != key {
				t.Fatalf("after the kill: unfinished uploads %v, want one for %q", uploadKeys(ups.Uploads), key)
			}
			parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(dst.bucket), Key: aws.String(key),
				UploadId: ups.Uploads[0].UploadId})
			if err != nil {
				t.Fatal(err)
			}
			// versitygw lists a part whose upload was cut off by the kill with
			// its full size and an ETag that is not its MD5: only parts whose
			// ETag is the MD5 of the source's bytes count as stored.
			stored := 0
			for _, pt := range parts.Parts {
				pn := int(aws.ToInt32(pt.PartNumber))
				end := min(pn*partSize, size)
				if sum := md5.Sum(obj.data[(pn-1)*partSize : end]); strings.Trim(aws.ToString(pt.ETag), `"`) == hex.EncodeToString(sum[:]) {
					stored++
				}
			}
			if stored < 3 {
				t.Errorf("after the kill at %d bytes sent, %d complete parts are stored; want at least 3", s.BytesSent, stored)
			}
			var nf *types.NotFound
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst.bucket), Key: aws.String(key)}); !errors.As(err, &nf) {
				t.Errorf("after the kill: HEAD %q = %v, want NotFound (no object yet)", key, err)
			}

			// Resume.
			r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
			wantExit(t, r, 0)
			rep := parseReport(t, r)
			if rep.Counters.Verified != 1 || rep.Counters.Failed != 0 {
				t.Errorf("resumed run: verified %d, failed %d; want 1, 0", rep.Counters.Verified, rep.Counters.Failed)
			}
			if limit := int64(size) * 3 / 4; rep.Counters.BytesRead >= limit {
				t.Errorf("resumed run read %d bytes of a %d-byte object with %d of %d parts stored: not resumed (limit %d)",
					rep.Counters.BytesRead, size, stored, totalParts, limit)
			}
			if tc.dst == "oss" {
				n := 0
				for _, q := range env.proxy.Requests() {
					if q.Bucket == dst.bucket && isUpload(q) && q.Received.After(killedAt) {
						n++
					}
				}
				// The part in flight at the kill may be stored and unrecorded.
				if n > totalParts-stored+1 {
					t.Errorf("resumed run stored %d parts; %d of %d were already stored, so at most %d (+1 in flight "+
						"at the kill) were needed", n, stored, totalParts, totalParts-stored)
				}
			}
			wantSame(t, dst, []object{obj}, false)
			ups, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(dst.bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(ups.Uploads) != 0 {
				t.Errorf("after the resumed run: orphaned multipart uploads %v", uploadKeys(ups.Uploads))
			}
		})
	}
}

// firstFew sorts keys and keeps the first ten, for messages.
func firstFew(keys []string) []string {
	keys = slices.Sorted(slices.Values(keys))
	if len(keys) > 10 {
		keys = append(keys[:10:10], fmt.Sprintf("... %d more", len(keys)-10))
	}
	return keys
}

func uploadKeys(ups []types.MultipartUpload) []string {
	var out []string
	for _, u := range ups {
		out = append(out, aws.ToString(u.Key)+" ("+aws.ToString(u.UploadId)+")")
	}
	return out
}

// statNumber reads "Name: N" from ferry stat's block; -1 if absent.
func statNumber(out, name string) int {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `: (\d+)$`).FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestKillDuringScan kills `ferry run` while it is still listing a large
// source (listings slowed by the proxy), then resumes: the destination must
// end up exactly like the source, with no object the first run had
// recorded as verified sent again, and the listing resumed from its
// checkpoint rather than started over.
func TestKillDuringScan(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.ossSide(t, "scan-src")
	dst := env.ossSide(t, "scan-dst")
	const n = 3000
	const pageSize = 50
	objs := make([]object, n)
	for i := range objs {
		objs[i] = newObject(fmt.Sprintf("d%02d/object-%05d.dat", i%20, i), randomBytes(100+i%1500, uint64(i)))
	}
	k := killDuringScan(t, env, src, dst, "kill-scan", objs, 150*time.Millisecond, 500, 60*time.Second,
		fmt.Sprintf("srcListPageSize=%d", pageSize), "taskObjectCountLimit=100")
	cfg, data, killedAt, verified1 := k.cfg, k.data, k.killedAt, k.verified

	r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	wantExit(t, r, 0)
	rep := parseReport(t, r)
	// 3000 GETs would take long under the race detector: the listing's
	// sizes and ETags (the server's MD5 of what it stored) do.
	wantContents(t, objs, listETags(t, dst.direct(), dst.bucket))
	if c := rep.Counters; c.Verified != n || c.Failed != 0 || c.Scanned != n {
		t.Errorf("pass after resume: listed %d, verified %d, failed %d; want %d, %d, 0 (each object once)",
			c.Scanned, c.Verified, c.Failed, n, n)
	}

	// Independent count of the uploads of each run, from the proxy's log.
	all := env.proxy.Requests()
	run1, run2 := map[string]int{}, map[string]int{}
	lists2 := 0
	for _, q := range all {
		second := q.Received.After(killedAt)
		switch {
		case q.Bucket == dst.bucket && isUpload(q) && !second:
			run1[q.Key]++
		case q.Bucket == dst.bucket && isUpload(q):
			run2[q.Key]++
		case q.Bucket == src.bucket && q.Key == "" && q.Method == http.MethodGet && second &&
			strings.Contains(q.Query, "list-type=2"):
			lists2++
		}
	}
	var twice, again []string
	for k, c := range run2 {
		if c > 1 {
			twice = append(twice, k)
		}
		if run1[k] > 0 {
			again = append(again, k)
		}
	}
	if len(twice) > 0 {
		t.Errorf("the resumed run stored %d object(s) more than once: %q", len(twice), firstFew(twice))
		for _, q := range all {
			if q.Key == twice[0] {
				t.Logf("  %s %s/%s?%s -> %d (fault %v) received %s", q.Method, q.Bucket, q.Key, q.Query, q.Status, q.Fault,
					q.Received.Sub(killedAt))
			}
		}
	}
	// Objects stored by the first run but not yet recorded as verified when
	// it died may be copied again; those it recorded may not.
	if unrecorded := int64(len(run1)) - verified1; int64(len(again)) > unrecorded {
		t.Errorf("the resumed run copied %d object(s) the first run had already stored; only %d of those were "+
			"unrecorded (stored %d, recorded verified %d): recorded objects were copied twice",
			len(again), unrecorded, len(run1), verified1)
	}
	// Those stored but unrecorded are found identical (their CRC64s prove
	// it) and not stored again: the overwrite policy never rewrites them.
	// So may be those whose PUT the kill cut after the store took it (the
	// proxy logs no success for them).
	cut := map[string]bool{}
	for _, q := range all {
		if q.Bucket == dst.bucket && q.Method == http.MethodPut && q.Status/100 != 2 && !q.Received.After(killedAt) &&
			!strings.Contains(q.Key, ".ferry-probe-") {
			cut[q.Key] = true
		}
	}
	if ident, most := rep.Counters.Identical, int64(len(run1))-verified1+int64(len(cut)); ident > most {
		t.Errorf("the resumed run found %d objects identical; only the %d the first run stored unrecorded (or whose "+
			"PUT the kill cut) can be", ident, most)
	}
	if want := n - verified1 - rep.Counters.Identical; int64(len(run2)) != want {
		t.Errorf("the resumed run stored %d objects; %d were recorded verified before the kill and %d found identical, so want %d",
			len(run2), verified1, rep.Counters.Identical, want)
	}
	// Lost progress (DESIGN §3: a lost worker loses little beyond what it
	// had in flight): objects copied by both runs are at most those in
	// flight (--workers, 16) plus those whose results were waiting for the
	// next report (at most a report batch per leased shard).
	if lim := 16 + worker.DefaultMaxShards*worker.DefaultReportBatch; len(again) > lim {
		t.Errorf("%d objects were copied by both runs, more than the %d in flight or awaiting a report: the "+
			"first run had stored %d and recorded only %d as verified when it died", len(again), lim, len(run1), verified1)
	}
	t.Logf("first run stored %d and recorded %d (%d PUTs cut); resumed run stored %d (%d again, %d identical) with %d listing requests",
		len(run1), verified1, len(cut), len(run2), len(again), rep.Counters.Identical, lists2)
	if full := n / pageSize; lists2 >= full {
		t.Errorf("the resumed run made %d listing requests of %d keys: a full scan takes %d; the scan did not "+
			"resume from its checkpoint (killed with %d listed)", lists2, pageSize, full, k.listed)
	}
}

// TestInterruptAndClean stops a run with SIGTERM in the middle of a
// multipart upload (exit 130, state saved), then removes the job with
// `ferry clean`: without the job file it refuses, naming the unfinished
// upload it could not abort; with it, the upload is aborted at the
// destination and the job forgotten.
func TestInterruptAndClean(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newS3Env(t)
	obj := newObject("big.bin", randomBytes(20*MiB, 7))
	src := localSide(t.TempDir())
	writeLocal(t, src.dir, []object{obj})
	dst := env.s3Side(t, "clean-dest")
	job := "interrupt-clean"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job,
		"maxBytesPerSecond=8m", "partsInFlight=1"), src.lines("src")...), dst.lines("dest")...)...)
	data := dataDir(t)

	p := startFerry(t, "run", "--data-dir", data, "--progress", "none", cfg)
	waitStatus(t, p, data, job, 30*time.Second, "more than 6 MiB sent", func(s status) bool { return s.BytesSent > 6*MiB })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := p.Wait()
	if r.code != 130 || !strings.Contains(r.stderr, "interrupted; state is saved") {
		t.Errorf("SIGTERM: want exit 130 and \"interrupted; state is saved\":\n%s", r)
	}
	c := dst.direct()
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(dst.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 1 {
		t.Fatalf("after SIGTERM mid-upload: unfinished uploads %v, want one kept for resuming", uploadKeys(ups.Uploads))
	}

	jb := runFerry(t, "jobs", "--data-dir", data)
	wantExit(t, jb, 0)
	if !regexp.MustCompile(`(?m)^` + job + `\s+running\s`).MatchString(jb.stdout) {
		t.Errorf("ferry jobs should list %s as running (interrupted):\n%s", job, jb)
	}

	cl := runFerry(t, "clean", "--data-dir", data, job)
	wantExit(t, cl, 2)
	if !strings.Contains(cl.stderr, "unfinished multipart upload") {
		t.Errorf("ferry clean without the job file should refuse, naming the unfinished upload:\n%s", cl)
	}
	cl = runFerry(t, "clean", "--data-dir", data, job, cfg)
	wantExit(t, cl, 0)
	ups, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(dst.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("after ferry clean with the job file: uploads %v still open", uploadKeys(ups.Uploads))
	}
	if st := runFerry(t, "stat", "--data-dir", data, job); st.code == 0 {
		t.Errorf("ferry stat of a cleaned job should fail:\n%s", st)
	}
	if _, ok := readStatus(data, job); ok {
		t.Errorf("ferry clean left the job's status file")
	}
	// The name is free again: a new run starts from scratch and succeeds.
	wantExit(t, runFerry(t, "run", "--data-dir", data, "--progress", "none", cfg), 0)
	wantSame(t, dst, []object{obj}, false)
}

// scanKill is what killDuringScan leaves: the job, its data dir, when the
// kill came, and what the tracker had then.
type scanKill struct {
	cfg, data string
	killedAt  time.Time
	listed    int64 // the status file's count at the kill
	verified  int64 // recorded verified by the killed run
}

// killDuringScan stores objs in src, starts `ferry run` of job src -> dst
// (with extra job lines) with every bucket listing delayed by wait, and
// kill -9s it while it scans, once more than listed objects are listed.
// It checks the tracker says the scan did not finish (else there is
// nothing to resume) and clears the delay.
func killDuringScan(t *testing.T, env *s3env, src, dst side, job string, objs []object, wait time.Duration,
	listed int64, deadline time.Duration, lines ...string) scanKill {
	t.Helper()
	putObjects(t, src.direct(), src.bucket, objs)
	k := scanKill{data: dataDir(t)}
	k.cfg = writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job, lines...), src.lines("src")...), dst.lines("dest")...)...)
	env.proxy.Inject(ossproxy.Fault{Kind: ossproxy.Delay, Method: http.MethodGet, BucketLevel: true, Wait: wait, Times: -1})
	p := startFerry(t, "run", "--data-dir", k.data, "--progress", "none", "--json", k.cfg)
	s := waitStatus(t, p, k.data, job, deadline, fmt.Sprintf(`state "scanning" and more than %d listed`, listed),
		func(s status) bool { return s.State == "scanning" && s.Listed > listed })
	killed := p.Kill()
	if killed.code != 128+9 {
		t.Fatalf("ferry ended by itself before the kill:\n%s", killed)
	}
	// Requests belong to the run they arrived in: the log is in order of
	// completion, and the proxy may finish a dead client's requests later.
	k.killedAt = time.Now()
	env.proxy.ClearFaults()
	k.listed = s.Listed
	t.Logf("killed with %d listed, state %q, %d verified (status file)", s.Listed, s.State, s.Counters.Verified)

	// What the tracker kept of the first run (the database is free now).
	sj := runFerry(t, "stat", "--json", "--data-dir", k.data, job)
	wantExit(t, sj, 0)
	var stats []struct {
		ScanFinished bool     `json:"scan_finished"`
		Counters     counters `json:"counters"`
	}
	if err := json.Unmarshal([]byte(sj.stdout), &stats); err != nil || len(stats) != 1 {
		t.Fatalf("stat --json after the kill: %v\n%s", err, sj)
	}
	if stats[0].ScanFinished {
		t.Fatalf("after a kill during the scan, stat says the scan finished: nothing to resume")
	}
	k.verified = stats[0].Counters.Verified
	return k
}
