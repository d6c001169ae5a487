package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// mixedObjects is a source with every size class and awkward keys: empty,
// small, exactly one part size, larger than the multipart threshold (one
// of them exactly two parts); keys
// with spaces, '+', '%', '#', '?', unicode and deep paths. withMeta gives
// them a content type and user metadata (for S3 sources).
func mixedObjects(withMeta bool) []object {
	specs := []struct {
		key  string
		size int
	}{
		{"empty.dat", 0},
		{"small.txt", 1000},
		{"exactly-5MiB.bin", 5 * MiB},
		{"large/multipart 13MiB.bin", 13*MiB + 12345},
		{"large/exactly-two-parts.bin", 2 * partSize},
		{"with space/file name.txt", 2048},
		{"plus+sign+.txt", 300},
		{"percent%41%2Fnot-encoded%.txt", 301},
		{"hash#fragment.txt", 302},
		{"question?mark=1&x=2.txt", 303},
		{"unicode/日本語/ファイル名.txt", 304},
		{"unicode/émoji-🚀.txt", 305},
		{"deep/a/b/c/d/e/f/g/h/i/j/k/leaf.txt", 306},
	}
	var objs []object
	for i, s := range specs {
		o := newObject(s.key, randomBytes(s.size, uint64(i+1)))
		if withMeta {
			o.ContentType = "application/x-ferry-e2e"
			if strings.HasSuffix(s.key, ".txt") {
				o.ContentType = "text/plain; charset=utf-8"
			}
			o.Meta = map[string]string{"origin": "ferry-e2e", "index": fmt.Sprint(i)}
		}
		objs = append(objs, o)
	}
	return objs
}

// TestCopy copies a mixed source between every pair of backend kinds the
// suite can run, checks the destination object by object, then runs the job
// again: nothing may be copied twice.
func TestCopy(t *testing.T) {
	cases := []struct {
		name     string
		src, dst string // side kinds
		// verification methods expected for single-part and multipart objects
		single, multi string
		// prefixes: copy srcPrefix=data/ (beside decoys that only look like
		// it) to destPrefix=copy/2024/
		prefixes bool
	}{
		{"local to s3", "local", "s3", "md5", "multipart-etag", false},
		// S3 stores keep a CRC64NVME of each object; the destination
		// validates the source's (README, "How copies are verified").
		{"s3 to s3", "s3", "s3", "source-checksum", "source-checksum", false},
		{"s3 to oss", "s3", "oss", "crc64", "crc64", false},
		{"s3 prefix to oss prefix", "s3", "oss", "crc64", "crc64", true},
		// A local Put reports no digest of its own (storage/local: "a CRC
		// computed here would only restate what the caller sent"), so only
		// the size is checked; its multipart Complete reports the CRC64
		// combined from the part files' trailers.
		{"s3 to local", "s3", "local", "size", "crc64", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newS3Env(t)
			withMeta := tc.src != "local" && tc.dst != "local" // both sides keep metadata
			objs := mixedObjects(tc.src != "local")

			var src, dst side
			switch tc.src {
			case "local":
				src = localSide(t.TempDir())
				writeLocal(t, src.dir, objs)
			case "s3":
				src = env.s3Side(t, "source")
				if tc.prefixes {
					src.prefix = "data/"
					decoys := []object{newObject("decoy.txt", randomBytes(10, 90)),
						newObject("data-sibling/x.txt", randomBytes(10, 91)), newObject("dat/a.txt", randomBytes(10, 92))}
					putObjects(t, src.direct(), src.bucket, decoys)
				}
				putObjects(t, src.direct(), src.bucket, withPrefix(src.prefix, objs))
			}
			switch tc.dst {
			case "local":
				dst = localSide(t.TempDir())
			case "s3":
				dst = env.s3Side(t, "dest")
			case "oss":
				dst = env.ossSide(t, "dest")
			}
			if tc.prefixes {
				dst.prefix = "copy/2024/"
			}
			job := "copy-" + strings.ReplaceAll(tc.name, " ", "-")
			cfg := writeJob(t, t.TempDir(), "job.cfg",
				append(append(jobLines(job), src.lines("src")...), dst.lines("dest")...)...)
			data := dataDir(t)

			// First run: everything copied and verified.
			r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
			wantExit(t, r, 0)
			rep := parseReport(t, r)
			n := int64(len(objs))
			c := rep.Counters
			if c.Verified != n || c.Failed != 0 || c.Skipped != 0 {
				t.Errorf("first run: verified %d, skipped %d, failed %d; want %d, 0, 0 (failures: %+v)",
					c.Verified, c.Skipped, c.Failed, n, rep.Failures)
			}
			wantMethods := map[string]int64{}
			for _, o := range objs {
				if o.Size >= threshold {
					wantMethods[tc.multi]++
				} else {
					wantMethods[tc.single]++
				}
			}
			if got := methods(c.Methods); !maps.Equal(got, wantMethods) {
				t.Errorf("first run verified by %v, want %v", got, wantMethods)
			}
			if c.BytesSent < totalSize(objs) {
				t.Errorf("first run sent %d bytes, less than the source's %d", c.BytesSent, totalSize(objs))
			}
			wantSame(t, dst, objs, withMeta)
			if tc.prefixes {
				for k := range listETags(t, dst.direct(), dst.bucket) {
					if !strings.HasPrefix(k, dst.prefix) {
						t.Errorf("%q stored outside destPrefix %q", k, dst.prefix)
					}
				}
			}

			// ferry stat: OssImport's block, and JSON.
			st := runFerry(t, "stat", "--data-dir", data)
			wantExit(t, st, 0)
			for _, line := range []string{"JobName: " + job, "JobState: Succeeded", "PendingTasks: 0",
				"RunningTasks: 0", "FailedTasks: 0", "ScanFinished: true"} {
				if !strings.Contains(st.stdout, line+"\n") {
					t.Errorf("ferry stat lacks the line %q:\n%s", line, st.stdout)
				}
			}
			if !strings.Contains(st.stdout, "SucceedTasks: ") || strings.Contains(st.stdout, "SucceedTasks: 0\n") {
				t.Errorf("ferry stat shows no succeeded task:\n%s", st.stdout)
			}
			sj := runFerry(t, "stat", "--json", "--data-dir", data, job)
			wantExit(t, sj, 0)
			var stats []struct {
				JobName      string   `json:"job_name"`
				JobState     string   `json:"job_state"`
				ScanFinished bool     `json:"scan_finished"`
				Counters     counters `json:"counters"`
			}
			if err := json.Unmarshal([]byte(sj.stdout), &stats); err != nil {
				t.Fatalf("stat --json does not parse: %v\n%s", err, sj)
			}
			if len(stats) != 1 || stats[0].JobName != job || stats[0].JobState != "succeeded" ||
				!stats[0].ScanFinished || stats[0].Counters.Verified != n {
				t.Errorf("stat --json = %+v; want one job %q, succeeded, scan finished, %d verified", stats, job, n)
			}

			// Second run: nothing to do.
			var putsBefore int
			if tc.dst == "oss" {
				putsBefore = countUploads(env, dst.bucket)
			}
			r = runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
			wantExit(t, r, 0)
			rep = parseReport(t, r)
			c = rep.Counters
			if c.Skipped != n || c.Verified != 0 || c.Failed != 0 {
				t.Errorf("second run: verified %d, skipped %d, failed %d; want 0, %d, 0", c.Verified, c.Skipped, c.Failed, n)
			}
			if got := methods(c.Methods); !maps.Equal(got, map[string]int64{"manifest": n}) {
				t.Errorf("second run: methods %v, want manifest %d", got, n)
			}
			if c.BytesSent != 0 || c.BytesRead != 0 || rep.BytesSent != 0 {
				t.Errorf("second run read %d and sent %d bytes (live %d); want 0", c.BytesRead, c.BytesSent, rep.BytesSent)
			}
			if tc.dst == "oss" {
				if d := countUploads(env, dst.bucket) - putsBefore; d != 0 {
					t.Errorf("second run stored %d objects/parts at the destination; want 0", d)
				}
			}
			wantSame(t, dst, objs, withMeta)
		})
	}
}

func countUploads(env *s3env, bucket string) int {
	n := 0
	for _, s := range requestsTo(env.proxy, bucket) {
		if isUpload(s) {
			n++
		}
	}
	return n
}

// withPrefix returns copies of objs with prefix before their keys.
func withPrefix(prefix string, objs []object) []object {
	out := make([]object, len(objs))
	for i, o := range objs {
		o.Key = prefix + o.Key
		out[i] = o
	}
	return out
}

// TestChangedSource runs a job, changes the source (one object rewritten at
// the same size, one at another size, one added, one deleted), and runs it
// again: exactly the changed and added objects are copied, the rest are
// skipped, and the deleted one stays at the destination (no delete
// propagation by default).
func TestChangedSource(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.s3Side(t, "change-src")
	dst := env.ossSide(t, "change-dst")
	objs := []object{
		newObject("a.txt", randomBytes(100, 1)),
		newObject("b-same-size.txt", randomBytes(2000, 2)),
		newObject("c-new-size.txt", randomBytes(3000, 3)),
		newObject("d.txt", randomBytes(4000, 4)),
		newObject("e-deleted.txt", randomBytes(5000, 5)),
	}
	putObjects(t, src.direct(), src.bucket, objs)
	job := "changed"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job), src.lines("src")...), dst.lines("dest")...)...)
	data := dataDir(t)
	wantExit(t, runFerry(t, "run", "--data-dir", data, "--progress", "none", cfg), 0)
	wantSame(t, dst, objs, false)

	b := newObject("b-same-size.txt", randomBytes(2000, 20))
	c := newObject("c-new-size.txt", randomBytes(3333, 30))
	f := newObject("f-added.txt", randomBytes(6000, 6))
	putObjects(t, src.direct(), src.bucket, []object{b, c, f})
	if _, err := src.direct().DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(src.bucket), Key: aws.String("e-deleted.txt")}); err != nil {
		t.Fatal(err)
	}
	mark := len(env.proxy.Requests())
	r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	wantExit(t, r, 0)
	rep := parseReport(t, r)
	if cn := rep.Counters; cn.Scanned != 5 || cn.Verified != 3 || cn.Skipped != 2 || cn.Failed != 0 {
		t.Errorf("second pass: listed %d, verified %d, skipped %d, failed %d; want 5, 3 (changed and added), 2, 0",
			cn.Scanned, cn.Verified, cn.Skipped, cn.Failed)
	}
	stored := map[string]int{}
	for _, q := range env.proxy.Requests()[mark:] {
		if q.Bucket == dst.bucket && isUpload(q) {
			stored[q.Key]++
		}
	}
	if want := map[string]int{b.Key: 1, c.Key: 1, f.Key: 1}; !maps.Equal(stored, want) {
		t.Errorf("second pass stored %v; want %v", stored, want)
	}
	wantSame(t, dst, []object{objs[0], b, c, objs[3], objs[4], f}, false)
}
