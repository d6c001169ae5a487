package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
)

// TestFaults injects faults with the OSS proxy: flipped bytes on the way
// up (single PUT and one part of a multipart upload) and down, a
// connection reset mid-download, and 503 SlowDown bursts on uploads and on
// a listing. Every run must end with exit 0, a correct destination, an
// empty `ferry failed`, and, in the proxy's log, the retry that fixed it.
func TestFaults(t *testing.T) {
	cases := []struct {
		name     string
		src, dst string // "s3" (versitygw directly) or "oss" (through the proxy)
		target   object // the object the fault hits
		faults   []ossproxy.Fault
		// which requests for the target's key prove the retry: at least
		// minFault hit by the fault, and at least minGood clean successes
		// after them
		method   string
		minGood  int
		minFault int
	}{
		{
			name: "flipped byte on upload", src: "s3", dst: "oss",
			target: newObject("faults/flip-upload.bin", randomBytes(300_000, 11)),
			faults: []ossproxy.Fault{{Kind: ossproxy.FlipByte, Method: http.MethodPut, KeyContains: "flip-upload",
				Direction: ossproxy.Upload, Offset: 1234}},
			method: http.MethodPut, minGood: 1, minFault: 1,
		},
		{
			name: "flipped byte in one part", src: "s3", dst: "oss",
			target: newObject("faults/flip-part.bin", randomBytes(12*MiB+17, 12)),
			// Parts go up concurrently and the fault hits whichever
			// arrives first, the short last one included: the offset
			// must fall inside every part, or the fault "hits" a part
			// without changing a byte.
			faults: []ossproxy.Fault{{Kind: ossproxy.FlipByte, Method: http.MethodPut, KeyContains: "flip-part",
				Direction: ossproxy.Upload, Offset: MiB}},
			method: http.MethodPut, minGood: 3, minFault: 1, // 3 parts, one of them sent twice
		},
		{
			name: "flipped byte on download", src: "oss", dst: "s3",
			target: newObject("faults/flip-download.bin", randomBytes(300_000, 13)),
			faults: []ossproxy.Fault{{Kind: ossproxy.FlipByte, Method: http.MethodGet, KeyContains: "flip-download",
				Direction: ossproxy.Download, Offset: 4321}},
			method: http.MethodGet, minGood: 1, minFault: 1,
		},
		{
			name: "flipped byte on download of a part", src: "oss", dst: "s3",
			target: newObject("faults/flip-download-part.bin", randomBytes(12*MiB+5, 14)),
			faults: []ossproxy.Fault{{Kind: ossproxy.FlipByte, Method: http.MethodGet, KeyContains: "flip-download-part",
				Direction: ossproxy.Download, Offset: 100_000}},
			method: http.MethodGet, minGood: 3, minFault: 1,
		},
		{
			name: "connection reset mid-download", src: "oss", dst: "oss",
			target: newObject("faults/reset.bin", randomBytes(3*MiB, 15)),
			faults: []ossproxy.Fault{{Kind: ossproxy.Reset, Method: http.MethodGet, KeyContains: "reset",
				Direction: ossproxy.Download, Offset: MiB}},
			method: http.MethodGet, minGood: 1, minFault: 1,
		},
		{
			name: "503 SlowDown burst", src: "oss", dst: "oss",
			target: newObject("faults/slow-down.bin", randomBytes(200_000, 16)),
			faults: []ossproxy.Fault{
				{Kind: ossproxy.SlowDown, Method: http.MethodPut, KeyContains: "slow-down", Times: 2},
				{Kind: ossproxy.SlowDown, Method: http.MethodGet, BucketLevel: true, Times: 1},
			},
			method: http.MethodPut, minGood: 1, minFault: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newS3Env(t)
			objs := []object{
				newObject("faults/a.txt", randomBytes(100, 1)),
				newObject("faults/b.txt", randomBytes(70_000, 2)),
				tc.target,
				newObject("faults/z.txt", randomBytes(0, 3)),
			}
			var src, dst side
			if tc.src == "oss" {
				src = env.ossSide(t, "fault-src")
				putObjects(t, env.viaProxy(), src.bucket, objs) // so the proxy reports their CRC64
			} else {
				src = env.s3Side(t, "fault-src")
				putObjects(t, src.direct(), src.bucket, objs)
			}
			if tc.dst == "oss" {
				dst = env.ossSide(t, "fault-dst")
			} else {
				dst = env.s3Side(t, "fault-dst")
			}
			job := "faults-" + strings.ReplaceAll(tc.name, " ", "-")
			cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job), src.lines("src")...), dst.lines("dest")...)...)
			data := dataDir(t)
			mark := len(env.proxy.Requests())
			for _, f := range tc.faults {
				env.proxy.Inject(f)
			}

			r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
			wantExit(t, r, 0)
			rep := parseReport(t, r)
			if c := rep.Counters; c.Verified != int64(len(objs)) || c.Failed != 0 {
				t.Errorf("verified %d, failed %d; want %d, 0", c.Verified, c.Failed, len(objs))
			}
			if n := env.proxy.PendingFaults(); n != 0 {
				t.Errorf("%d injected fault(s) never hit: the test did not test what it says", n)
			}
			wantSame(t, dst, objs, false)

			// The retry, from the proxy's log.
			var good, faulted int
			var log []string
			for _, q := range env.proxy.Requests()[mark:] {
				if q.Key != tc.target.Key || q.Method != tc.method {
					continue
				}
				log = append(log, fmt.Sprintf("%s ?%s -> %d fault %v", q.Method, q.Query, q.Status, q.Fault))
				if q.Fault != 0 {
					faulted++
				} else if q.Status/100 == 2 && faulted > 0 {
					good++
				} else if q.Status/100 == 2 && tc.minGood > 1 {
					good++ // other parts may go before the faulted one
				}
			}
			if good < tc.minGood || faulted < tc.minFault {
				t.Errorf("%s requests for %q: %d hit by the fault, %d good; want at least %d and %d:\n  %s",
					tc.method, tc.target.Key, faulted, good, tc.minFault, tc.minGood, strings.Join(log, "\n  "))
			}

			f := runFerry(t, "failed", "--data-dir", data, job)
			wantExit(t, f, 0)
			if f.stdout != "" || !strings.Contains(f.stderr, "0 failed object(s)") {
				t.Errorf("ferry failed after a run that recovered from its faults:\n%s", f)
			}
		})
	}
}
