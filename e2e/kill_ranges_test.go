package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKillDuringFlatScan kills `ferry run` while it lists a flat bucket
// (no "/" in its keys) split into key ranges by scanThreadCount=8, with
// every listing slowed by the proxy, then resumes: the scan goes on with
// the ranges the first run recorded, and every object is listed, copied
// and recorded exactly once.
func TestKillDuringFlatScan(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.ossSide(t, "flat-src")
	dst := env.ossSide(t, "flat-dst")
	const n = 3000
	const pageSize = 50
	objs := make([]object, n)
	for i := range objs {
		objs[i] = newObject(fmt.Sprintf("object-%05d.dat", i), randomBytes(100+i%700, uint64(i)))
	}
	k := killDuringScan(t, env, src, dst, "kill-flat", objs, 400*time.Millisecond, 200, 90*time.Second,
		fmt.Sprintf("srcListPageSize=%d", pageSize), "taskObjectCountLimit=100", "scanThreadCount=8")
	cfg, data, killedAt := k.cfg, k.data, k.killedAt

	r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	wantExit(t, r, 0)
	rep := parseReport(t, r)
	wantContents(t, objs, listETags(t, dst.direct(), dst.bucket))
	if c := rep.Counters; c.Verified != n || c.Failed != 0 || c.Scanned != n {
		t.Errorf("pass after resume: listed %d, verified %d, failed %d; want %d, %d, 0 (each object once)",
			c.Scanned, c.Verified, c.Failed, n, n)
	}

	// The resumed run lists from the recorded ranges: no sampling probes
	// (a probe lists one page from a start-after inside the bucket and
	// stops), and each range continues after its checkpoint. Parallel
	// listings in the first run: several LISTs in flight at once.
	uploads2 := map[string]int{}
	for _, q := range env.proxy.Requests() {
		if q.Bucket == dst.bucket && isUpload(q) && q.Received.After(killedAt) {
			uploads2[q.Key]++
		}
	}
	for k, c := range uploads2 {
		if c > 1 {
			t.Errorf("the resumed run stored %q %d times", k, c)
		}
	}
	lists, startAfter1 := 0, 0
	for _, q := range env.proxy.Requests() {
		if q.Bucket != src.bucket || q.Key != "" || q.Method != http.MethodGet || !strings.Contains(q.Query, "list-type=2") {
			continue
		}
		if q.Received.After(killedAt) {
			lists++
		} else if strings.Contains(q.Query, "start-after=") {
			startAfter1++ // a probe, or a range's first page
		}
	}
	if startAfter1 < 8 {
		t.Errorf("the first run made %d listing requests from a start-after: the bucket was not split into ranges", startAfter1)
	}
	if full := n/pageSize + 32; lists >= full {
		t.Errorf("the resumed run made %d listing requests: more than a full scan's pages plus one per range (%d)", lists, full)
	}
	t.Logf("first run: %d listings from a start-after; resumed run: %d listing requests, %d uploads",
		startAfter1, lists, len(uploads2))
}
