package e2e

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAudit runs jobType=audit between two OSS-flavour buckets (both behind
// the proxy, so both report CRC64) that differ in three ways: an object
// missing at the destination, one of another size, one of the same size
// with other bytes. The audit must fail exactly those three, with reasons,
// count the object only at the destination, and change nothing.
func TestAudit(t *testing.T) {
	t.Parallel()
	env := newS3Env(t)
	src := env.ossSide(t, "audit-src")
	dst := env.ossSide(t, "audit-dst")
	c := env.viaProxy()

	same := newObject("same.txt", randomBytes(1000, 1))
	sameBig := newObject("big/same-9MiB.bin", randomBytes(9*MiB, 2))
	missing := newObject("missing.txt", randomBytes(2000, 3))
	size := newObject("size.txt", randomBytes(3000, 4))
	content := newObject("content.txt", randomBytes(4000, 5))
	empty := newObject("empty", nil)
	putObjects(t, c, src.bucket, []object{same, sameBig, missing, size, content, empty})

	otherSize := newObject(size.Key, randomBytes(3001, 4))
	flipped := append([]byte(nil), content.data...)
	flipped[1234] ^= 0x01
	otherContent := newObject(content.Key, flipped)
	extra := newObject("zz-only-at-destination.txt", randomBytes(10, 6))
	dstObjs := []object{same, sameBig, otherSize, otherContent, empty, extra}
	putObjects(t, c, dst.bucket, dstObjs)

	job := "audit"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append([]string{"jobName=" + job, "jobType=audit"},
		src.lines("src")...), dst.lines("dest")...)...)
	data := dataDir(t)
	mark := len(env.proxy.Requests())

	r := runFerry(t, "run", "--data-dir", data, "--progress", "none", "--json", cfg)
	wantExit(t, r, 1)
	rep := parseReport(t, r)
	if cn := rep.Counters; cn.Verified != 3 || cn.Failed != 3 {
		t.Errorf("audit: verified %d, failed %d; want 3, 3", cn.Verified, cn.Failed)
	}
	if got := methods(rep.Counters.Methods); got["crc64"] != 3 {
		t.Errorf("audit verified by %v; want crc64 for all three matching objects (both sides report CRC64)", got)
	}
	if rep.Extra != 1 {
		t.Errorf("audit: %d object(s) only at the destination, want 1 (%s)", rep.Extra, extra.Key)
	}

	f := runFerry(t, "failed", "--json", "--data-dir", data, job)
	wantExit(t, f, 0)
	want := map[string]string{missing.Key: "missing", size.Key: "size", content.Key: "CRC64"}
	got := map[string]string{}
	for _, line := range nonEmptyLines(f.stdout) {
		var e struct {
			Key   string `json:"key"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("ferry failed --json line %q: %v", line, err)
		}
		got[e.Key] = e.Error
	}
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Errorf("ferry failed lists %v; want exactly %v:\n%s", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)), f)
	}
	for k, w := range want {
		if g, ok := got[k]; ok && !strings.Contains(strings.ToLower(g), strings.ToLower(w)) {
			t.Errorf("ferry failed: %q: error %q should say %q", k, g, w)
		}
	}

	// An audit only looks: it lists and HEADs, and with CRC64 on both
	// sides it reads no object's bytes, in the master or in the worker.
	for _, q := range env.proxy.Requests()[mark:] {
		if q.Method != http.MethodGet && q.Method != http.MethodHead || q.Method == http.MethodGet && q.Key != "" {
			t.Errorf("the audit sent %s %s/%s?%s", q.Method, q.Bucket, q.Key, q.Query)
		}
	}
	if rep.Counters.BytesRead != 0 {
		t.Errorf("audit read %d bytes; want 0: the stored CRC64s decide", rep.Counters.BytesRead)
	}
	wantSame(t, dst, dstObjs, false)
}
